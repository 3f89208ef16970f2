FROM python:3.11-slim
WORKDIR /app
# The package and its data (migrations, templates, scenarios, gates, the EGM96 grid in
# telemetry/data), installed at the versions CI tested (requirements.lock as constraints).
COPY pyproject.toml README.md requirements.lock ./
COPY hub hub
COPY sandbox sandbox
COPY telemetry telemetry
COPY simulators simulators
RUN PIP_CONSTRAINT=requirements.lock pip install --no-cache-dir . \
    && useradd --system --create-home --home-dir /var/lib/soldierslab soldierslab
# Not root: a volume mounted on the data folder starts out owned by this user.
USER soldierslab
ENV SOLDIERSLAB_DATA_DIR=/var/lib/soldierslab
EXPOSE 8000 14550/udp 5760 5020
CMD ["soldierslab", "serve", "--host", "0.0.0.0", "--port", "8000"]
