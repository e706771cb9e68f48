"""PCI DSS 3.4 / 10: a full card number is never readable where we write. Every common spelling of a PAN is
masked in the stored item (table, stream, PITR, exports) and in every log line of the three functions."""

from __future__ import annotations

import json
import re
import unicodedata

import audit
import processor
import pytest
import receiver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webhook_common.redact import mask_cards, mask_text, redact

from .conftest import signed_event, stream_records
from .samples import STRIPE_SUCCEEDED

PAN = "4111111111111111"
SEPARATED = "4111{0}1111{0}1111{0}1111"


def luhn(digits: str) -> bool:
    """Independent of the implementation under test: the textbook double-every-second-digit form."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value // 10 + value % 10
    return total % 10 == 0


def read_as_a_person_would(text: str) -> str:
    """An independent decoder of every spelling below: escapes, percent-encoding, Unicode digits, spaces."""
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), text)
    text = re.sub(r"%([0-9a-fA-F]{2})", lambda m: chr(int(m[1], 16)), text)
    text = unicodedata.normalize("NFKC", text)
    return "".join(str(unicodedata.digit(c)) if c.isdecimal() else c for c in text)


def pans_in(text: str) -> list[str]:
    """Card numbers as the spec defines them, read after decoding: in a run of digit groups joined by the
    separators a PAN is written with, any Luhn-valid 13-19 digit stretch of whole groups; in a run of
    more than 19 digits, any Luhn-valid 13-19 digit stretch at all."""
    found = []
    for run in re.finditer(r"[0-9](?:[ \-._/,+]*[0-9])*", read_as_a_person_would(text)):
        groups = [g for g in re.split(r"[ \-._/,+]+", run.group()) if g]
        digits = "".join(groups)
        if len(digits) > 19:
            found += [digits[i:i + n] for n in range(13, 20) for i in range(len(digits) - n + 1)
                      if luhn(digits[i:i + n])]
            continue
        stretches = ("".join(groups[i:j]) for i in range(len(groups)) for j in range(i + 1, len(groups) + 1))
        found += [s for s in stretches if 13 <= len(s) <= 19 and luhn(s)]
    return found


SPELLINGS = {
    "plain": PAN,
    "spaces": SEPARATED.format(" "),
    "dashes": SEPARATED.format("-"),
    "dots": SEPARATED.format("."),
    "slashes": SEPARATED.format("/"),
    "underscores": SEPARATED.format("_"),
    "commas": SEPARATED.format(","),
    "plus (form encoding)": SEPARATED.format("+"),
    "%20 (URL encoding)": SEPARATED.format("%20"),
    "percent-encoded digits": "".join(f"%{ord(c):02X}" for c in PAN),
    "NBSP": SEPARATED.format("\u00a0"),
    "JSON \\u escapes in the text": "".join(f"\\u{ord(c):04x}" for c in PAN),
    "full-width digits": "".join(chr(0xFF10 + int(c)) for c in PAN),
    "Arabic-Indic digits": "".join(chr(0x0660 + int(c)) for c in PAN),
    "superscript digits": PAN.translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")),
    "circled digits": PAN.translate(str.maketrans("0123456789", "⓪①②③④⑤⑥⑦⑧⑨")),
    "inside a longer string": f"ref-abc{PAN}xyz",
    "glued into a longer number": f"9000000000{PAN}",
}


def test_the_checker_finds_every_spelling_unmasked():
    # the assertions below can fail: unmasked, each spelling is flagged
    assert all(pans_in(spelling) for spelling in SPELLINGS.values())


@pytest.mark.parametrize("spelling", list(SPELLINGS), ids=list(SPELLINGS))
def test_every_spelling_is_masked(spelling):
    text = f"note: {SPELLINGS[spelling]} (end)"
    assert pans_in(mask_text(text)) == []
    assert "******" in mask_text(text)


def test_masking_keeps_everything_else_as_it_was():
    assert mask_text(f"Café ©®™ {SPELLINGS['NBSP']} ok ٣") == "Café ©®™ 411111******1111 ok ٣"
    assert mask_text("order 2026-01-02T03:04:05.123Z 192.168.100.200") == \
        "order 2026-01-02T03:04:05.123Z 192.168.100.200"


def test_the_stored_payload_keeps_its_shape_and_drops_only_card_secrets():
    value = {"payload": {"cardNumber": PAN, "cvc": "123", "hmacSignature": "abc="}, "amount": 2000}
    assert mask_cards(value) == {"payload": {"cardNumber": "411111******1111", "hmacSignature": "abc="},
                                 "amount": 2000}
    assert redact(value) == {"amount": 2000}


@st.composite
def spelled_pans(draw) -> str:
    length = draw(st.integers(13, 19))
    body = draw(st.text("0123456789", min_size=length - 1, max_size=length - 1))
    digits = body + next(d for d in "0123456789" if luhn(body + d))
    separator = draw(st.sampled_from(["", " ", "-", ".", "/", "_", ",", "+", "%20", "\u00a0"]))
    encode = draw(st.sampled_from([
        lambda s: s,
        lambda s: "".join(chr(0xFF10 + int(c)) for c in s),
        lambda s: "".join(chr(0x0660 + int(c)) for c in s),
        lambda s: "".join(f"%{ord(c):02X}" for c in s),
        lambda s: "".join(f"\\u{ord(c):04x}" for c in s),
    ]))
    return separator.join(encode(digits[i:i + 4]) for i in range(0, len(digits), 4))


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(TEXT, spelled_pans()), max_size=4).map("".join))
def test_no_spelling_survives_masking(text):
    assert pans_in(mask_text(text)) == []


# --- end to end: the stored item and every log sink ------------------------------------------------------------


def test_no_pan_spelling_is_readable_in_the_item_or_any_log_line(aws, capsys):
    # GIVEN a signed event carrying a card number in every spelling, in values and in a key
    notes = {f"note {n}": spelling for n, spelling in enumerate(SPELLINGS.values())}
    payload = {**STRIPE_SUCCEEDED, "metadata": {**notes, PAN: "as a key"}}
    # WHEN it is received, processed and audited
    assert receiver.handler(signed_event("stripe", payload), None)["statusCode"] == 200
    assert processor.handler({"Records": aws.drain()}, None) == {"batchItemFailures": []}
    assert audit.handler({"Records": stream_records(aws)}, None) == {"batchItemFailures": []}
    # THEN neither the stored item (nor so its stream, backups or exports) nor any log line holds one
    [item] = aws.items()
    # (only the card number sent is looked for: ids, digests and clocks hold Luhn-valid digit runs by chance)
    assert PAN not in pans_in(json.dumps(item, ensure_ascii=False))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["timestamp"] for line in lines if line.get("message") == "audit"].count("event") == 3
    assert PAN not in pans_in(json.dumps(lines, ensure_ascii=False))
    # and the processor still normalised the (masked) payload
    assert (item["status"]["S"], item["amount"]["N"]) == ("PROCESSED", "2000")


def test_a_provider_reference_that_passes_luhn_by_chance_stays_readable():
    # Adyen's pspReference is 16 digits; one in ten passes Luhn, and it names the payment
    reference = "8815658961765255"
    assert mask_text(reference) != reference
    masked = mask_cards({"pspReference": reference, "originalReference": reference, "merchantReference": reference})
    assert masked == {"pspReference": reference, "originalReference": reference,
                      "merchantReference": "881565******5255"}
