"""The per-worker consumer pool: reuse by key, idle expiry, capacity, quiet closing.

The pool only holds and closes consumers, so a stand-in that counts its closes is enough
here; the readers' use of it is tested in `test_range_readers`.
"""

import logging

import pytest

from stream_scorer.sources.readers.consumer_pool import ConsumerPool, pool_key

BROKER_A = pool_key("confluent-kafka", {"kafka.bootstrap.servers": "a:9092"})
BROKER_B = pool_key("confluent-kafka", {"kafka.bootstrap.servers": "b:9092"})


class Consumer:
    """A stand-in consumer; `close` fails when told to."""

    def __init__(self, fail_close: bool = False) -> None:
        self.closed, self.fail_close = 0, fail_close

    def close(self) -> None:
        self.closed += 1
        if self.fail_close:
            raise RuntimeError("broker gone")


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def pool(clock: Clock) -> ConsumerPool:
    return ConsumerPool(capacity=2, idle_timeout_s=300.0, clock=clock)


def test_returned_consumer_is_taken_again_for_the_same_key(pool):
    consumer = Consumer()
    pool.give(BROKER_A, consumer)
    assert pool.take(BROKER_A) is consumer
    assert (pool.take(BROKER_A), consumer.closed, len(pool)) == (None, 0, 0)


def test_consumer_is_never_taken_for_other_options(pool):
    pool.give(BROKER_A, Consumer())
    assert pool.take(BROKER_B) is None
    assert len(pool) == 1


def test_key_holds_the_client_and_every_option_in_any_order():
    options = {"kafka.bootstrap.servers": "a:9092", "kafka.sasl.username": "u"}
    reordered = dict(reversed(options.items()))
    assert pool_key("kafka-python", options) == pool_key("kafka-python", reordered)
    assert pool_key("kafka-python", options) != pool_key("confluent-kafka", options)
    other_user = {**options, "kafka.sasl.username": "v"}
    assert pool_key("kafka-python", options) != pool_key("kafka-python", other_user)


def test_consumer_idle_past_the_timeout_is_closed_on_next_use(pool, clock):
    stale, fresh = Consumer(), Consumer()
    pool.give(BROKER_A, stale)
    clock.now += 200
    pool.give(BROKER_B, fresh)
    clock.now += 100
    assert pool.take(BROKER_A) is None
    assert (stale.closed, fresh.closed, len(pool)) == (1, 0, 1)


def test_least_recently_returned_consumer_is_closed_past_capacity(pool, clock):
    first, second, third = Consumer(), Consumer(), Consumer()
    for consumer in (first, second, third):
        pool.give(BROKER_A, consumer)
        clock.now += 1
    assert (first.closed, second.closed, third.closed, len(pool)) == (1, 0, 0, 2)
    assert pool.take(BROKER_A) is third


def test_zero_capacity_closes_every_returned_consumer(clock):
    consumer = Consumer()
    ConsumerPool(capacity=0, clock=clock).give(BROKER_A, consumer)
    assert consumer.closed == 1


def test_failing_close_is_logged_not_raised(pool, clock, caplog):
    consumer = Consumer(fail_close=True)
    pool.give(BROKER_A, consumer)
    clock.now += 300
    with caplog.at_level(logging.WARNING):
        assert pool.take(BROKER_A) is None
    assert consumer.closed == 1
    assert "closing a Kafka consumer failed (ignored): RuntimeError('broker gone')" in caplog.text


def test_clear_closes_every_idle_consumer(pool):
    consumers = [Consumer(), Consumer()]
    pool.give(BROKER_A, consumers[0])
    pool.give(BROKER_B, consumers[1])
    pool.clear()
    assert ([c.closed for c in consumers], len(pool)) == ([1, 1], 0)
