FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub hub
COPY sandbox sandbox
COPY telemetry telemetry
COPY simulators simulators
RUN pip install --no-cache-dir .
ENV SOLDIERSLAB_DATA_DIR=/var/lib/soldierslab
EXPOSE 8000 14550/udp
CMD ["soldierslab", "serve", "--host", "0.0.0.0", "--port", "8000"]
