//! A hand-written JSON reader for the frames almost every token of a reply comes in
//! (`providers/ollama/fast.rs`, `providers/openai/fast.rs`): strings borrowed when they
//! have no escapes, escapes decoded as serde does, and `None` — "let serde read it" —
//! for anything a fast path does not expect. serde_json stays the reference; the
//! readers are held equal to it by differential property tests (`gen.rs`) and fuzzing.

use std::borrow::Cow;

#[cfg(test)]
pub(crate) mod gen;
mod shape;

pub(crate) use shape::SameShape;

/// Sets a field read once; `None` when it was already (serde rejects duplicate fields).
pub(crate) fn once<T>(field: &mut Option<T>, value: T) -> Option<()> {
    match field {
        Some(_) => None,
        None => {
            *field = Some(value);
            Some(())
        }
    }
}

/// A cursor over JSON text, for the hand-written readers of the common frames.
pub(crate) struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `text`.
    pub(crate) fn new(text: &'a str) -> Reader<'a> {
        Reader {
            text,
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    /// Whether all of the text has been read (after `skip_ws`, the end of a frame).
    pub(crate) fn at_end(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// `null`.
    pub(crate) fn null(&mut self) -> Option<()> {
        let rest = self.bytes.get(self.at..)?;
        rest.starts_with(b"null").then(|| self.at += 4)
    }

    /// A JSON number made of digits only (an integer as servers write counts and
    /// timestamps), skipped; anything else is left to serde. JSON forbids leading zeros
    /// (`0847`), which serde rejects: so does this (found by fuzzing).
    pub(crate) fn skip_digits(&mut self) -> Option<()> {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.bytes.get(self.at) {
            self.at += 1;
        }
        let digits = self.at - start;
        let leading_zero = digits > 1 && self.bytes.get(start) == Some(&b'0');
        (digits > 0 && !leading_zero).then_some(())
    }

    /// The literal `0`, not followed by another digit.
    pub(crate) fn zero(&mut self) -> Option<()> {
        self.eat(b'0')?;
        match self.bytes.get(self.at) {
            Some(b'0'..=b'9' | b'.' | b'e' | b'E') => None,
            _ => Some(()),
        }
    }

    pub(crate) fn next(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    pub(crate) fn eat(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    pub(crate) fn eat_if(&mut self, want: u8) -> bool {
        let hit = self.bytes.get(self.at) == Some(&want);
        self.at += usize::from(hit);
        hit
    }

    /// JSON's whitespace: space, tab, LF and CR.
    pub(crate) fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    /// Advances over string bytes up to the next `"`, `\` or control character, and
    /// returns that byte (not consumed).
    pub(crate) fn scan(&mut self) -> Option<u8> {
        // Eight bytes at a time first (measured: the byte loop alone was most of the
        // reader's time). For each byte b, `(b - k) & !b & 0x80` is set when b < k, and
        // b == c exactly when b ^ c == 0; a borrow can only flag a byte above one that
        // truly matched, so the lowest flag is exact. The byte loop below confirms it.
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        let below = |w: u64, k: u64| w.wrapping_sub(ONES * k) & !w & HIGHS;
        while let Some(word) = self.bytes.get(self.at..self.at + 8) {
            let mut le = [0; 8];
            le.copy_from_slice(word);
            let w = u64::from_le_bytes(le);
            let hits = below(w ^ (ONES * u64::from(b'"')), 1)
                | below(w ^ (ONES * u64::from(b'\\')), 1)
                | below(w, 0x20);
            if hits != 0 {
                self.at += (hits.trailing_zeros() / 8) as usize;
                break;
            }
            self.at += 8;
        }
        loop {
            let b = *self.bytes.get(self.at)?;
            if b == b'"' || b == b'\\' || b < 0x20 {
                return Some(b);
            }
            self.at += 1;
        }
    }

    /// A string without escapes, borrowed. (The text is valid UTF-8 and the bounds are
    /// ASCII quotes, so the slice is on character boundaries; `get` makes sure.)
    #[inline(always)]
    pub(crate) fn plain_string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        if self.scan()? != b'"' {
            return None;
        }
        let s = self.text.get(start..self.at)?;
        self.at += 1;
        Some(s)
    }

    pub(crate) fn skip_plain_string(&mut self) -> Option<()> {
        self.plain_string().map(drop)
    }

    /// A key and its colon. Keys with escapes are left to serde.
    #[inline(always)]
    pub(crate) fn key(&mut self) -> Option<&'a str> {
        let key = self.plain_string()?;
        self.skip_ws();
        self.eat(b':')?;
        self.skip_ws();
        Some(key)
    }

    pub(crate) fn boolean(&mut self) -> Option<bool> {
        let rest = self.bytes.get(self.at..)?;
        if rest.starts_with(b"true") {
            self.at += 4;
            Some(true)
        } else if rest.starts_with(b"false") {
            self.at += 5;
            Some(false)
        } else {
            None
        }
    }

    /// A string, borrowed when it has no escapes.
    ///
    /// (Inlined, like the other readers of the token line: called, they hand their
    /// result back through memory in pieces the caller then reads whole, and those
    /// store-forwarding stalls were a third of the reader's time.)
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Option<Cow<'a, str>> {
        self.eat(b'"')?;
        let start = self.at;
        match self.scan()? {
            b'"' => {
                let s = self.text.get(start..self.at)?;
                self.at += 1;
                Some(Cow::Borrowed(s))
            }
            b'\\' => {
                let mut out = String::with_capacity(self.at - start + 8);
                out.push_str(self.text.get(start..self.at)?);
                self.unescape_into(out).map(Cow::Owned)
            }
            _ => None,
        }
    }

    /// The rest of a string with escapes, from a `\`, appended to `out`.
    pub(crate) fn unescape_into(&mut self, mut out: String) -> Option<String> {
        loop {
            match self.next()? {
                b'"' => return Some(out),
                b'\\' => out.push(self.escape()?),
                _ => return None, // a control character
            }
            let start = self.at;
            self.scan()?;
            out.push_str(self.text.get(start..self.at)?);
        }
    }

    /// The character of the escape after a `\`.
    pub(crate) fn escape(&mut self) -> Option<char> {
        Some(match self.next()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                match unit {
                    0xD800..=0xDBFF => {
                        // A high surrogate: only a low one may follow.
                        self.eat(b'\\')?;
                        self.eat(b'u')?;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return None;
                        }
                        char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))?
                    }
                    _ => char::from_u32(unit)?, // `None` for a lone low surrogate
                }
            }
            _ => return None,
        })
    }

    pub(crate) fn hex4(&mut self) -> Option<u32> {
        let mut n = 0;
        for _ in 0..4 {
            n = n * 16 + char::from(self.next()?).to_digit(16)?;
        }
        Some(n)
    }
}
