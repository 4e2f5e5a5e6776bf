"""The start-time connection check: fail in one line, as soon as the cause is known.

Three probes, each bounded by the start-check timeout, each reporting through
`stream_scorer.kafka.causes.classify`:
- `check_tls`: one TLS handshake of our own (SSL and SASL_SSL only), see `tls_probe`;
- `watched`: a call that builds kafka-python clients, run in a thread while the errors
  kafka-python logs for its connections are read (its bootstrap retries them silently until
  its timeout and then raises only `KafkaTimeoutError`);
- `check_librdkafka`: a confluent-kafka consumer's metadata request, with its error callback.
A cause stops the wait at once; errors that name none (refused, reset) wait for the timeout.
"""

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from stream_scorer.errors import ConfigError, ScorerError
from stream_scorer.kafka.causes import Target, classify
from stream_scorer.kafka.client_config import client_config
from stream_scorer.kafka.options import connection_options
from stream_scorer.kafka.tls_probe import tls_handshake_error

T = TypeVar("T")
CLIENT_ID = "kafka.client.id"
_KAFKA_PYTHON_LOGGER = "kafka.net"
_GRACE_S = 2.0  # past the client's own timeout, for its last retry to end
_POLL_S = 0.2


def check_tls(
    options: Mapping[str, str], target: Target, timeout_s: float, error: type[ScorerError]
) -> None:
    """Raise `error` naming the cause if a TLS handshake with the bootstrap servers fails."""
    if not target.uses_tls:
        return
    failure = tls_handshake_error(options, timeout_s)
    if failure is not None:
        why = classify(failure, target)
        msg = why or f"{target.subject}TLS handshake with {target.servers} failed: {failure}"
        raise error(msg) from None


def probe_client_id() -> str:
    """A client id of its own for one watched kafka-python client (its IO thread's name)."""
    return f"stream-scorer-start-check-{uuid.uuid4().hex[:12]}"


def watched(
    call: Callable[[], T],
    client_id: str,
    target: Target,
    timeout_s: float,
    error: type[ScorerError],
) -> T:
    """Return `call()`, or raise `error` as soon as the kafka-python client `client_id` logs
    an error that names a cause.

    `call` must build its clients with `client_id` and give up after `timeout_s` (its
    bootstrap timeout). If it raises a refused connection or a timeout (or an error caused
    by one), and also if it is still blocked past the timeout (kafka-python waiting on a TLS
    handshake, left behind), `error` says no broker answered, with the last telling error
    kafka-python logged. Anything else it raises is raised as is.
    """
    io_thread = f"kafka-io-{client_id}"
    causes: queue.Queue[str] = queue.Queue()
    seen: list[BaseException] = []

    class _Causes(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.threadName != io_thread or not isinstance(record.args, tuple):
                return
            for arg in record.args:
                if isinstance(arg, BaseException):
                    seen.append(arg)
                    cause = classify(arg, target)
                    if cause is not None:
                        causes.put(cause)

    done: queue.Queue[tuple[bool, Any]] = queue.Queue()

    def run() -> None:
        try:
            done.put((True, call()))
        except BaseException as exc:  # handed to the caller's thread
            done.put((False, exc))

    handler, logger = _Causes(logging.ERROR), logging.getLogger(_KAFKA_PYTHON_LOGGER)
    level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.ERROR:
        logger.setLevel(logging.ERROR)
    try:
        threading.Thread(target=run, name=f"start-check-{client_id}", daemon=True).start()
        deadline = time.monotonic() + timeout_s + _GRACE_S
        while time.monotonic() < deadline:
            if not causes.empty():
                raise error(causes.get()) from None
            try:
                ok, value = done.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if ok:  # a connection that failed and then succeeded is no failure
                return value
            if not causes.empty():
                raise error(causes.get()) from None
            if not (_unanswered(value) or _unanswered(value.__cause__)):
                raise value
            break
        raise error(target.unreachable(timeout_s, _last(seen))) from None
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def check_kafka_python(
    options: Mapping[str, str], target: Target, timeout_s: float, error: type[ScorerError]
) -> None:
    """List the topics with a kafka-python consumer built from the bootstrap servers and
    security options of `options` only; raise `error` as `watched` does."""
    from kafka import KafkaConsumer

    client_id = probe_client_id()
    settings = {
        **client_config(connection_options(options), "consumer"),
        "client_id": client_id,
        "bootstrap_timeout_ms": round(timeout_s * 1000),
    }

    def topics() -> set[str]:
        consumer = KafkaConsumer(**settings)
        try:
            return consumer.topics()
        finally:
            consumer.close()

    watched(topics, client_id, target, timeout_s, error)


def check_librdkafka(
    config: Mapping[str, Any], target: Target, timeout_s: float, error: type[ScorerError]
) -> None:
    """Ask for metadata with a confluent-kafka consumer built from `config` (librdkafka
    settings); raise `error` with the cause its errors or logs name, or after `timeout_s`
    if no broker answered.

    Raises
    ------
    ConfigError
        If librdkafka refuses a setting (the executors' readers would refuse it too).
    """
    import confluent_kafka as ck

    reported: list[Any] = []

    class _Log(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            reported.append(record.getMessage())

    rd_log = logging.getLogger(f"stream_scorer.kafka.reach.librdkafka.{uuid.uuid4().hex[:8]}")
    rd_log.propagate, rd_log.level = False, logging.DEBUG
    rd_log.addHandler(_Log())
    settings = {
        **config,
        "group.id": f"stream-scorer-start-check-{uuid.uuid4().hex}",
        "enable.auto.commit": False,
        "socket.connection.setup.timeout.ms": max(1000, round(timeout_s * 1000)),
        "error_cb": reported.append,
        "logger": rd_log,
    }
    try:
        consumer = ck.Consumer(settings)
    except ck.KafkaException as exc:
        msg = f"{target.subject}confluent-kafka refused the kafka.* options: {exc}"
        raise ConfigError(msg) from None
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            try:
                consumer.list_topics(timeout=_POLL_S)
                return
            except ck.KafkaException as exc:
                reported.append(exc.args[0])
            consumer.poll(0)  # serves error_cb and the log
            for item in reported:
                cause = classify(item, target)
                if cause is not None:
                    raise error(cause) from None
        raise error(target.unreachable(timeout_s)) from None
    finally:
        consumer.close()


def _unanswered(exc: BaseException | None) -> bool:
    from kafka.errors import KafkaConnectionError, KafkaTimeoutError

    return isinstance(exc, KafkaConnectionError | KafkaTimeoutError)


def _last(seen: list[BaseException]) -> str | None:
    """The last error that is more than a refused or lost connection, for the message."""
    telling = [e for e in seen if not _unanswered(e)]
    return repr(telling[-1]) if telling else None
