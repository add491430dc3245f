"""An incremental parser for a transcript body: feed bytes, get typed tokens (sans I/O).

The body is ``{"id": ..., "text": ..., "tokens": [{token}, {token}, ...]}`` with its keys in any
order. A small state machine walks the top-level object: ``id`` is kept, ``text`` only on
request (otherwise it is skipped as it streams past, so a long transcript's text never sits in
memory), and unknown keys are skipped whatever their value.

Inside ``tokens`` there is no per-token Python work: the parser cuts the buffered bytes after
the last complete element and decodes that run of elements with one msgspec call, straight into
:class:`~soniox.types.TranscriptionTranscriptToken` Structs, as :func:`soniox.types.loads` does
for a whole body. Finding the cut needs no string tracking: the last ``}`` is tried first, and a
``}`` inside a string or a nested object makes the candidate run invalid JSON (that string or
object never closes), so the decode fails and the ``}`` before it is tried. A run that is valid
JSON but not token-shaped (a field changed type) goes through the lenient
:func:`soniox.types.structure` rules instead, like ``loads``.

Memory stays flat: the buffer holds about one network chunk plus one partial token. (An
adversarial body whose tokens end in many ``}`` inside strings defers decoding, bounded by
:data:`_MAX_CUT_TRIES` attempts per chunk, and is still read correctly.)
"""

from __future__ import annotations

from typing import Any, Final, Generic, TypeVar, cast

import msgspec

from soniox.errors import DecodeError
from soniox.types import TranscriptionTranscriptToken, structure

__all__ = ["TranscriptParser"]

TokenT = TypeVar("TokenT", bound=msgspec.Struct)

_WS: Final = b" \t\r\n"
_DELIMS: Final = b" \t\r\n,}]"
_QUOTE: Final = 0x22
_BACKSLASH: Final = 0x5C
_LBRACE: Final = 0x7B
_RBRACE: Final = 0x7D
_LBRACKET: Final = 0x5B
_RBRACKET: Final = 0x5D
_COMMA: Final = 0x2C
_COLON: Final = 0x3A
_MAX_CUT_TRIES: Final = 4
"""``}`` candidates tried per chunk before waiting for more bytes (at the end: all of them)."""
_COMPACT_AT: Final = 1 << 16

# States of the top-level walk.
_OPEN: Final = 0  # before "{"
_KEY: Final = 1  # a key (or "}") is next
_KEY_STR: Final = 2  # inside a key string
_COLON_: Final = 3  # ":" is next
_VALUE: Final = 4  # a value is next
_VAL_STR: Final = 5  # inside a string value
_AFTER: Final = 6  # "," or "}" is next
_ARRAY: Final = 7  # inside "tokens": [...]
_DONE: Final = 8  # after the closing "}"


class TranscriptParser(Generic[TokenT]):
    """Feed the bytes of a transcript body as they arrive; :meth:`feed` returns new tokens.

    ``token_type`` is the msgspec Struct to decode into (default
    :class:`~soniox.types.TranscriptionTranscriptToken`). ``keep_text``: also collect the
    top-level ``text`` (megabytes for a long recording). ``skip``: drop that many leading
    tokens (to resume an interrupted download). Call :meth:`close` at the end of the body: it
    returns the last tokens and raises :class:`~soniox.errors.DecodeError` when the body was
    cut short or is not a transcript.
    """

    __slots__ = (
        "_buf",
        "_decoder",
        "_keep_text",
        "_key",
        "_need_item",
        "_pos",
        "_skip",
        "_state",
        "_str_carry",
        "_str_keep",
        "_str_scan",
        "_token_type",
        "_tokens_seen",
        "id",
        "text",
        "tokens_parsed",
    )

    def __init__(
        self,
        token_type: type[TokenT] = TranscriptionTranscriptToken,
        *,
        keep_text: bool = False,
        skip: int = 0,
    ) -> None:
        self._token_type = token_type
        self._decoder: msgspec.json.Decoder[list[TokenT]] = msgspec.json.Decoder(
            list[token_type]  # type: ignore[valid-type]
        )
        self._buf = bytearray()
        self._pos: int = 0  # first unprocessed byte
        self._state: int = _OPEN
        self._key: str | None = None
        self._keep_text = keep_text
        self._need_item = False  # after "{", "[" or ",": is an item required / allowed
        self._str_keep = False  # decode the string being scanned (else it is discarded)
        self._str_scan: int = 0  # where to look for its closing quote, relative to _pos
        self._str_carry = False  # an odd run of backslashes precedes the scan point
        self._skip = skip
        self._tokens_seen = False
        self.id: str | None = None
        """The transcript's ``id``, once the parser has passed it."""
        self.text: str | None = None
        """The transcript's ``text`` (with ``keep_text=True`` only), once passed."""
        self.tokens_parsed = 0
        """Tokens decoded so far, skipped ones included."""

    def __repr__(self) -> str:
        return (
            f"TranscriptParser(state={self._state}, buffered={len(self._buf) - self._pos}, "
            f"tokens_parsed={self.tokens_parsed})"
        )

    @property
    def buffered(self) -> int:
        """Bytes held back, waiting for the rest of a token (stays about one chunk)."""
        return len(self._buf) - self._pos

    @property
    def done(self) -> bool:
        """True once the closing ``}`` of the body was read."""
        return self._state == _DONE

    # --- public -------------------------------------------------------------------------------
    def feed(self, data: bytes | bytearray | memoryview) -> list[TokenT]:
        """Take the next bytes of the body; returns the tokens they completed (maybe none)."""
        if data:
            self._buf += data
        out: list[TokenT] = []
        self._run(out, final=False)
        pos = self._pos
        if pos and (pos >= _COMPACT_AT or pos == len(self._buf)):
            del self._buf[:pos]  # O(1) for a bytearray's head
            self._pos = 0
        return out

    def close(self) -> list[TokenT]:
        """End of the body: the remaining tokens; :class:`DecodeError` if it is incomplete."""
        out: list[TokenT] = []
        self._run(out, final=True)
        if self._state != _DONE:
            raise DecodeError(
                "cannot read TranscriptionTranscript: the body ended early "
                f"(after {self.tokens_parsed} tokens)",
                expected="TranscriptionTranscript",
            )
        if self._skip_ws(self._pos) != len(self._buf):
            raise self._error("unexpected data after the transcript object")
        if not self._tokens_seen:
            raise self._error("the body has no 'tokens' array")
        self._buf = bytearray()
        self._pos = 0
        return out

    # --- the walk -----------------------------------------------------------------------------
    @staticmethod
    def _error(what: str) -> DecodeError:
        return DecodeError(
            f"cannot read TranscriptionTranscript: {what}", expected="TranscriptionTranscript"
        )

    def _skip_ws(self, pos: int) -> int:
        buf = self._buf
        end = len(buf)
        while pos < end and buf[pos] in _WS:
            pos += 1
        return pos

    def _run(self, out: list[TokenT], *, final: bool) -> None:
        """Advance as far as the buffered bytes allow."""
        buf = self._buf
        while True:
            state = self._state
            if state == _DONE:
                return
            if state == _ARRAY:
                if not self._array(out, final=final):
                    return
                continue
            if state in (_KEY_STR, _VAL_STR):
                if not self._string():
                    return
                continue
            pos = self._skip_ws(self._pos)
            self._pos = pos
            if pos >= len(buf):
                return
            c = buf[pos]
            if state == _OPEN:
                if c != _LBRACE:
                    raise self._error("the body is not a JSON object")
                self._pos = pos + 1
                self._state = _KEY
                self._need_item = False  # "{}" is allowed
            elif state == _KEY:
                if c == _QUOTE:
                    self._start_string(keep=True)
                    self._state = _KEY_STR
                elif c == _RBRACE and not self._need_item:
                    self._pos = pos + 1
                    self._state = _DONE
                else:
                    raise self._error(f"expected a key at byte {pos}")
            elif state == _COLON_:
                if c != _COLON:
                    raise self._error(f"expected ':' after key {self._key!r}")
                self._pos = pos + 1
                self._state = _VALUE
            elif state == _VALUE:
                if c == _LBRACKET and self._key == "tokens":
                    self._tokens_seen = True
                    self._need_item = False
                    self._pos = pos + 1
                    self._state = _ARRAY
                elif c == _QUOTE:
                    key = self._key
                    self._start_string(keep=key == "id" or (key == "text" and self._keep_text))
                    self._state = _VAL_STR
                elif not self._other_value(final=final):
                    return
            else:  # _AFTER
                if c == _COMMA:
                    self._pos = pos + 1
                    self._state = _KEY
                    self._need_item = True
                elif c == _RBRACE:
                    self._pos = pos + 1
                    self._state = _DONE
                else:
                    raise self._error(f"expected ',' or '}}' after the value of {self._key!r}")

    # --- strings: keys, kept values (id, text) and skipped ones --------------------------------
    def _start_string(self, *, keep: bool) -> None:
        self._str_keep = keep
        self._str_scan = 1  # just after the opening quote at _pos
        self._str_carry = False

    def _string(self) -> bool:
        """Scan for the closing quote; False: more bytes are needed."""
        buf = self._buf
        base = self._pos
        scan = base + self._str_scan
        carry = self._str_carry
        while True:
            q = buf.find(b'"', scan)
            end = len(buf) if q < 0 else q
            i = end - 1
            while i >= scan and buf[i] == _BACKSLASH:
                i -= 1
            odd = (end - 1 - i) % 2 == 1
            if i < scan:  # the run reaches back to the scan point: add what preceded it
                odd ^= carry
            if q < 0:
                if self._str_keep:
                    self._str_scan = end - base
                else:  # a skipped string (a long text): forget what was scanned
                    self._pos = end
                    self._str_scan = 0
                self._str_carry = odd
                return False
            if not odd:
                break
            scan = q + 1
            carry = False
        if self._str_keep:
            try:
                value = msgspec.json.decode(bytes(buf[base : q + 1]))
            except msgspec.DecodeError as exc:
                raise self._error(f"invalid string: {exc}") from None
            self._store_string(cast(str, value))
        elif self._state == _KEY_STR:  # pragma: no cover - keys are always kept
            self._key = None
        self._pos = q + 1
        self._state = _COLON_ if self._state == _KEY_STR else _AFTER
        return True

    def _store_string(self, value: str) -> None:
        if self._state == _KEY_STR:
            self._key = value
        elif self._key == "id":
            self.id = value
        else:
            self.text = value

    def _other_value(self, *, final: bool) -> bool:
        """A number, literal, object or array of a key other than ``tokens`` (kept for ``id``)."""
        buf = self._buf
        pos = self._pos
        end = self._composite_end(pos) if buf[pos] in (_LBRACE, _LBRACKET) else None
        if buf[pos] not in (_LBRACE, _LBRACKET):
            end = pos
            n = len(buf)
            while end < n and buf[end] not in _DELIMS:
                end += 1
            if end == n and not final:
                return False
        if end is None:
            if final:
                raise self._error(f"the value of {self._key!r} never ends")
            return False
        try:
            value: Any = msgspec.json.decode(bytes(buf[pos:end]))
        except msgspec.DecodeError as exc:
            raise self._error(f"invalid value for {self._key!r}: {exc}") from None
        if self._key == "id" and value is not None:
            self.id = str(value)
        self._pos = end
        self._state = _AFTER
        return True

    def _composite_end(self, pos: int) -> int | None:
        """End (exclusive) of the object or array at ``pos``; None if not all buffered."""
        buf = self._buf
        depth = 0
        i = pos
        n = len(buf)
        while i < n:
            c = buf[i]
            if c == _QUOTE:
                i += 1
                while True:
                    q = buf.find(b'"', i)
                    if q < 0:
                        return None
                    j = q - 1
                    while buf[j] == _BACKSLASH:
                        j -= 1
                    i = q + 1
                    if (q - 1 - j) % 2 == 0:
                        break
                continue
            if c in (_LBRACE, _LBRACKET):
                depth += 1
            elif c in (_RBRACE, _RBRACKET):
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return None

    # --- the tokens array ---------------------------------------------------------------------
    def _array(self, out: list[TokenT], *, final: bool) -> bool:
        """Decode the complete elements buffered; False: more bytes are needed."""
        buf = self._buf
        pos = self._skip_ws(self._pos)
        self._pos = pos
        if pos >= len(buf):
            if final:
                raise self._error("the 'tokens' array never ends")
            return False
        c = buf[pos]
        if c == _RBRACKET:
            if self._need_item:
                raise self._error("a ',' before ']' in 'tokens'")
            self._pos = pos + 1
            self._state = _AFTER
            return True
        if c == _COMMA:
            if self._need_item or self.tokens_parsed == 0:
                raise self._error("an unexpected ',' in 'tokens'")
            self._pos = pos + 1
            self._need_item = True
            return True
        if self.tokens_parsed and not self._need_item:
            raise self._error("expected ',' or ']' between tokens")
        tries = len(buf) if final else _MAX_CUT_TRIES
        hi = len(buf)
        while tries > 0:
            cut = buf.rfind(b"}", pos, hi)
            if cut < 0:
                break
            tokens = self._decode_run(pos, cut + 1)
            if tokens is not None:
                self._emit(tokens, out)
                self._pos = cut + 1
                self._need_item = False
                return True
            hi = cut
            tries -= 1
        if final:
            raise self._error(f"an incomplete token after {self.tokens_parsed} tokens")
        return False

    def _decode_run(self, start: int, end: int) -> list[TokenT] | None:
        """The elements in ``buf[start:end]``; None when that run is not complete JSON."""
        with memoryview(self._buf) as view:
            run = b"".join((b"[", view[start:end], b"]"))
        try:
            return self._decoder.decode(run)
        except msgspec.ValidationError:
            pass  # an unexpected shape (found while parsing: the run may still be incomplete)
        except msgspec.DecodeError:
            return None
        try:
            items = msgspec.json.decode(run)
        except msgspec.DecodeError:
            return None
        if not isinstance(items, list):  # pragma: no cover - "[...]" is always a list
            raise self._error("'tokens' is not an array")
        token_type = self._token_type
        return [structure(item, token_type) for item in cast(list[Any], items)]

    def _emit(self, tokens: list[TokenT], out: list[TokenT]) -> None:
        self.tokens_parsed += len(tokens)
        skip = self._skip
        if skip:
            dropped = min(skip, len(tokens))
            self._skip = skip - dropped
            tokens = tokens[dropped:]
        out.extend(tokens)
