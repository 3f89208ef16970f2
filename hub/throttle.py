"""Failed log-in throttle per client address (in memory: one hub process per deployment)."""

import threading
import time
from collections import defaultdict, deque


class LoginThrottle:
    """At most `max_failures` failed log-ins per address in any `window_s` seconds."""

    def __init__(self, *, max_failures: int = 20, window_s: float = 60.0) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after_s(self, address: str) -> int:
        """Seconds until `address` may try again; 0 if it may now."""
        with self._lock:
            failures = self._prune(address)
            if len(failures) < self.max_failures:
                return 0
            return max(1, int(failures[0] + self.window_s - time.monotonic()) + 1)

    def failed(self, address: str) -> None:
        with self._lock:
            self._prune(address).append(time.monotonic())

    def _prune(self, address: str) -> deque[float]:
        failures = self._failures[address]
        while failures and failures[0] <= time.monotonic() - self.window_s:
            failures.popleft()
        return failures
