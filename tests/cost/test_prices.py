"""The price table is sourced and dated, and the cost function does the arithmetic by hand."""

from __future__ import annotations

import re

import pytest

from tests.bench import cost
from tests.bench.prices import PRICES, Price


@pytest.mark.parametrize("key", sorted(PRICES))
def test_every_price_has_a_source_and_a_date(key):
    price = PRICES[key]
    assert price.source.startswith("https://"), key
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", price.checked), key
    assert price.unit and price.per > 0 and price.usd >= 0, key


def test_dynamodb_prices_are_after_the_november_2024_cut():
    assert PRICES["ddb_write_request_unit"].usd == 0.625
    assert PRICES["ddb_read_request_unit"].usd == 0.125
    assert PRICES["ddb_stream_read_request_lambda"].usd == 0


def test_cost_of_known_counts_is_the_hand_computed_figure():
    # one webhook: 1 REST request, 1 WAF inspection, 2 invocations, 0.05 GB-s, 6 WRU, 1 RRU, 2 SQS requests,
    # 1 custom event, 2 KB of logs
    units = {"apigw_rest_request": 1, "waf_request": 1, "lambda_request": 2, "lambda_arm_gb_second": 0.05,
             "ddb_write_request_unit": 6, "ddb_read_request_unit": 1, "sqs_request": 2, "events_custom_event": 1,
             "logs_ingest_gb": 2000 / 1e9}
    dollars = cost.dollars_per_million(units)
    by_hand = {"apigw_rest_request": 3.50, "waf_request": 0.60, "lambda_request": 0.40,
               "lambda_arm_gb_second": 0.05 * 0.0000133334 * 1e6, "ddb_write_request_unit": 6 * 0.625,
               "ddb_read_request_unit": 0.125, "sqs_request": 0.80, "events_custom_event": 1.00,
               "logs_ingest_gb": 2000 * 0.50 / 1e3}
    assert dollars == pytest.approx(by_hand)
    assert sum(dollars.values()) == pytest.approx(3.5 + 0.6 + 0.4 + 0.66667 + 3.75 + 0.125 + 0.8 + 1.0 + 1.0,
                                                  abs=1e-4)


def test_price_each_divides_by_its_unit_count():
    assert Price("x", 0.03, 10_000, "request", "https://example.com").each == pytest.approx(3e-6)


def test_write_units_of_items_and_index_entries():
    item = {"webhookId": {"S": "stripe#evt_1"}, "timestamp": {"S": "event"}, "payload": {"S": "x" * 2000}}
    assert cost.item_size(item) == len("webhookId") + 12 + len("timestamp") + 5 + len("payload") + 2000
    assert cost.write_units(cost.item_size(item)) == 2
    index = cost.Index("Pending", ("pendingKey",), ("provider",), ("webhookId", "timestamp"))
    with_key = {**item, "pendingKey": {"S": "pending#1"}, "provider": {"S": "stripe"}}
    assert index.write_units(None, with_key) == 1  # a new entry
    assert index.write_units(with_key, item) == 1  # removing the key deletes the entry
    assert index.write_units(item, {**item, "payload": {"S": "y"}}) == 0  # not in the index


def test_xray_sampling_fraction():
    assert cost.sampled_fraction(0.5) == 1.0
    assert cost.sampled_fraction(21) == pytest.approx((1 + 0.05 * 20) / 21)
