"""Schemathesis hooks: the rules of jangteo's API that JSON Schema cannot state.

Each is described in the OpenAPI document too (crates/api/src/schema.rs). They only shape
*valid* (positive) requests, so that a request the document calls valid really is valid;
invalid (negative) requests are left alone, and every check stays on.
"""

import schemathesis
from hypothesis import strategies as st

MAX_PRICE = 10_000_000_000

# 사업자등록번호: nine digits and the National Tax Service check digit.
WEIGHTS = [1, 3, 7, 1, 3, 7, 1, 3, 5]


def _with_check_digit(nine: str) -> str:
    d = [int(c) for c in nine]
    total = sum(x * w for x, w in zip(d, WEIGHTS)) + (d[8] * 5) // 10
    number = nine + str((10 - total % 10) % 10)
    return f"{number[:3]}-{number[3:5]}-{number[5:]}"


schemathesis.openapi.format(
    "kr-business-number",
    st.text("0123456789", min_size=9, max_size=9).map(_with_check_digit),
)

# A password that passes the strength rules (4+ distinct characters, no common word, not
# the e-mail address); generated ones rarely do, and the rules are tested elsewhere.
STRONG_PASSWORD = "Jt#8q!Zx$4v%-fuzz"


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@schemathesis.hook
def before_call(context, case, kwargs):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    route = (case.method.upper(), case.path)
    body = case.body
    if not isinstance(body, dict):
        return
    if route == ("POST", "/api/v1/auth/signup") and isinstance(body.get("password"), str):
        body["password"] = STRONG_PASSWORD
    if route == ("POST", "/api/v1/products") and _number(body.get("price")):
        # A variant's price (product price + price_delta) stays within 0..=MAX_PRICE.
        price = int(body["price"])
        for variant in body.get("variants") or []:
            if isinstance(variant, dict) and _number(variant.get("price_delta")):
                delta = int(variant["price_delta"])
                variant["price_delta"] = min(max(delta, -price), MAX_PRICE - price)
