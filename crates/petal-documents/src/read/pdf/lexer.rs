//! A forgiving tokenizer for content streams and CMaps: it yields one operator at a time with
//! its operands and never fails. Bytes that fit no token are skipped, an unclosed string or
//! array ends at the end of the data, and nesting is counted rather than recursed into, so a
//! hostile stream costs time in proportion to its length and no stack.

use std::borrow::Cow;

/// Most array elements kept for one operand (a `TJ` array per glyph is far below this).
const MAX_ARRAY_ELEMENTS: usize = 1 << 16;

/// One operand of an operator.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Operand<'a> {
    /// An integer or real number.
    Number(f64),
    /// A name, without its slash and with `#xx` escapes resolved.
    Name(Cow<'a, [u8]>),
    /// A literal or hexadecimal string, unescaped.
    String(Cow<'a, [u8]>),
    /// An array's numbers, names and strings; nested arrays and dictionaries become `Other`.
    Array(Vec<Operand<'a>>),
    /// Anything else (booleans, null, dictionaries, nested arrays): present but unused.
    Other,
}

impl Operand<'_> {
    /// The number, if this is one and it is finite.
    pub(super) fn number(&self) -> Option<f64> {
        match self {
            Operand::Number(n) if n.is_finite() => Some(*n),
            _ => None,
        }
    }

    /// The name's bytes, if this is a name.
    pub(super) fn name(&self) -> Option<&[u8]> {
        match self {
            Operand::Name(name) => Some(name),
            _ => None,
        }
    }

    /// The string's bytes, if this is a string.
    pub(super) fn string(&self) -> Option<&[u8]> {
        match self {
            Operand::String(string) => Some(string),
            _ => None,
        }
    }
}

/// Reads operators from `data`.
pub(super) struct Lexer<'a> {
    data: &'a [u8],
    pos: usize,
    max_operands: usize,
}

fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

fn is_delimiter(byte: u8) -> bool {
    matches!(byte, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

fn is_regular(byte: u8) -> bool {
    !is_whitespace(byte) && !is_delimiter(byte)
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// A token read inside an array or a dictionary.
enum Token<'a> {
    Value(Operand<'a>),
    ArrayStart,
    ArrayEnd,
    DictStart,
    DictEnd,
    Keyword(&'a [u8]),
    Skip,
    End,
}

impl<'a> Lexer<'a> {
    /// A lexer over `data` that keeps at most `max_operands` operands for one operator (the
    /// rest are dropped).
    pub(super) fn new(data: &'a [u8], max_operands: usize) -> Self {
        Self { data, pos: 0, max_operands }
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.data.get(self.pos.saturating_add(offset)).copied()
    }

    /// Reads the next operator, filling `operands` (cleared first) with what precedes it.
    /// `None` at the end of the data.
    pub(super) fn next_operation(&mut self, operands: &mut Vec<Operand<'a>>) -> Option<&'a [u8]> {
        operands.clear();
        loop {
            match self.token() {
                Token::End => return None,
                Token::Value(value) => {
                    if operands.len() < self.max_operands {
                        operands.push(value);
                    }
                }
                Token::ArrayStart => {
                    let array = self.array();
                    if operands.len() < self.max_operands {
                        operands.push(array);
                    }
                }
                Token::DictStart => {
                    self.skip_dictionary();
                    if operands.len() < self.max_operands {
                        operands.push(Operand::Other);
                    }
                }
                Token::Keyword(b"true" | b"false" | b"null") => {
                    if operands.len() < self.max_operands {
                        operands.push(Operand::Other);
                    }
                }
                Token::Keyword(b"BI") => {
                    self.skip_inline_image();
                    operands.clear();
                    return Some(b"BI");
                }
                Token::Keyword(keyword) => return Some(keyword),
                Token::ArrayEnd | Token::DictEnd | Token::Skip => {}
            }
        }
    }

    /// Skips white space and comments.
    fn skip_space(&mut self) {
        while let Some(byte) = self.peek() {
            if is_whitespace(byte) {
                self.pos += 1;
            } else if byte == b'%' {
                while let Some(byte) = self.peek() {
                    if byte == b'\r' || byte == b'\n' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    fn token(&mut self) -> Token<'a> {
        self.skip_space();
        let Some(byte) = self.peek() else { return Token::End };
        match byte {
            b'(' => {
                self.pos += 1;
                Token::Value(Operand::String(self.literal_string()))
            }
            b'<' if self.peek_at(1) == Some(b'<') => {
                self.pos += 2;
                Token::DictStart
            }
            b'<' => {
                self.pos += 1;
                Token::Value(Operand::String(Cow::Owned(self.hex_string())))
            }
            b'>' if self.peek_at(1) == Some(b'>') => {
                self.pos += 2;
                Token::DictEnd
            }
            b'[' => {
                self.pos += 1;
                Token::ArrayStart
            }
            b']' => {
                self.pos += 1;
                Token::ArrayEnd
            }
            b'/' => {
                self.pos += 1;
                Token::Value(Operand::Name(self.name()))
            }
            // Stray delimiters (and PostScript braces) carry nothing here.
            b')' | b'>' | b'{' | b'}' => {
                self.pos += 1;
                Token::Skip
            }
            _ => {
                let start = self.pos;
                while self.peek().is_some_and(is_regular) {
                    self.pos += 1;
                }
                let word = self.data.get(start..self.pos).unwrap_or_default();
                match word.first() {
                    Some(b'0'..=b'9' | b'+' | b'-' | b'.') => {
                        Token::Value(Operand::Number(parse_number(word)))
                    }
                    Some(_) => Token::Keyword(word),
                    None => {
                        // Not a regular byte after all (cannot happen); step over it.
                        self.pos += 1;
                        Token::Skip
                    }
                }
            }
        }
    }

    /// The body of a literal string, after its opening parenthesis.
    fn literal_string(&mut self) -> Cow<'a, [u8]> {
        let start = self.pos;
        let mut depth = 0usize;
        let mut escaped = false;
        // First pass: find the end, and whether anything needs unescaping.
        let mut end = None;
        let mut pos = self.pos;
        while let Some(&byte) = self.data.get(pos) {
            match byte {
                b'\\' => {
                    escaped = true;
                    pos += 2;
                    continue;
                }
                b'(' => depth += 1,
                b')' if depth == 0 => {
                    end = Some(pos);
                    break;
                }
                b')' => depth -= 1,
                b'\r' => escaped = true,
                _ => {}
            }
            pos += 1;
        }
        let end = end.unwrap_or(self.data.len()).min(self.data.len());
        self.pos = end.saturating_add(1).min(self.data.len());
        let raw = self.data.get(start..end).unwrap_or_default();
        if !escaped {
            return Cow::Borrowed(raw);
        }
        let mut out = Vec::with_capacity(raw.len());
        let mut bytes = raw.iter().copied().peekable();
        while let Some(byte) = bytes.next() {
            match byte {
                b'\\' => match bytes.next() {
                    Some(b'n') => out.push(b'\n'),
                    Some(b'r') => out.push(b'\r'),
                    Some(b't') => out.push(b'\t'),
                    Some(b'b') => out.push(8),
                    Some(b'f') => out.push(12),
                    // A backslash before an end of line continues the string on the next.
                    Some(b'\r') => {
                        bytes.next_if_eq(&b'\n');
                    }
                    Some(b'\n') => {}
                    Some(digit @ b'0'..=b'7') => {
                        let mut value = u32::from(digit - b'0');
                        for _ in 0..2 {
                            match bytes.peek() {
                                Some(&next @ b'0'..=b'7') => {
                                    value = value * 8 + u32::from(next - b'0');
                                    bytes.next();
                                }
                                _ => break,
                            }
                        }
                        out.push(u8::try_from(value & 0xff).unwrap_or(0));
                    }
                    Some(other) => out.push(other),
                    None => {}
                },
                // An end of line inside a string reads as a line feed.
                b'\r' => {
                    bytes.next_if_eq(&b'\n');
                    out.push(b'\n');
                }
                _ => out.push(byte),
            }
        }
        Cow::Owned(out)
    }

    /// The bytes of a hexadecimal string, after its `<`.
    fn hex_string(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        while let Some(byte) = self.peek() {
            self.pos += 1;
            if byte == b'>' {
                break;
            }
            if let Some(value) = hex_value(byte) {
                match high.take() {
                    Some(h) => out.push(h << 4 | value),
                    None => high = Some(value),
                }
            }
        }
        if let Some(h) = high {
            out.push(h << 4);
        }
        out
    }

    /// A name's bytes, after its slash.
    fn name(&mut self) -> Cow<'a, [u8]> {
        let start = self.pos;
        while self.peek().is_some_and(is_regular) {
            self.pos += 1;
        }
        let raw = self.data.get(start..self.pos).unwrap_or_default();
        if !raw.contains(&b'#') {
            return Cow::Borrowed(raw);
        }
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while let Some(&byte) = raw.get(i) {
            if byte == b'#'
                && let (Some(h), Some(l)) = (
                    raw.get(i + 1).copied().and_then(hex_value),
                    raw.get(i + 2).copied().and_then(hex_value),
                )
            {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
            out.push(byte);
            i += 1;
        }
        Cow::Owned(out)
    }

    /// An array, after its `[`: its direct numbers, names and strings. Nested arrays and
    /// dictionaries are skipped by counting, never by recursion.
    fn array(&mut self) -> Operand<'a> {
        let mut elements = Vec::new();
        let mut depth = 1usize;
        let mut dict_depth = 0usize;
        loop {
            let token = self.token();
            match token {
                Token::End => break,
                Token::ArrayStart => {
                    depth = depth.saturating_add(1);
                    if depth == 2 && dict_depth == 0 && elements.len() < MAX_ARRAY_ELEMENTS {
                        elements.push(Operand::Other);
                    }
                }
                Token::ArrayEnd => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                Token::DictStart => {
                    if depth == 1 && dict_depth == 0 && elements.len() < MAX_ARRAY_ELEMENTS {
                        elements.push(Operand::Other);
                    }
                    dict_depth = dict_depth.saturating_add(1);
                }
                Token::DictEnd => dict_depth = dict_depth.saturating_sub(1),
                Token::Value(value) => {
                    if depth == 1 && dict_depth == 0 && elements.len() < MAX_ARRAY_ELEMENTS {
                        elements.push(value);
                    }
                }
                Token::Keyword(b"true" | b"false" | b"null") => {
                    if depth == 1 && dict_depth == 0 && elements.len() < MAX_ARRAY_ELEMENTS {
                        elements.push(Operand::Other);
                    }
                }
                // An operator inside an array is malformed; it is dropped.
                Token::Keyword(_) | Token::Skip => {}
            }
        }
        Operand::Array(elements)
    }

    /// Skips a dictionary, after its `<<`, counting nested dictionaries and arrays.
    fn skip_dictionary(&mut self) {
        let mut depth = 1usize;
        loop {
            match self.token() {
                Token::End => break,
                Token::DictStart => depth = depth.saturating_add(1),
                Token::DictEnd => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
    }

    /// Skips an inline image after `BI`: its dictionary up to `ID`, then its data up to an
    /// `EI` standing alone between white space (or at the end of the data).
    fn skip_inline_image(&mut self) {
        loop {
            match self.token() {
                Token::End => return,
                Token::Keyword(b"ID") => break,
                Token::Keyword(b"EI") => return,
                _ => {}
            }
        }
        // One white-space byte separates ID from the data.
        self.pos = self.pos.saturating_add(1).min(self.data.len());
        let data = self.data.get(self.pos..).unwrap_or_default();
        let found = data.windows(4).position(|window| {
            matches!(window, [before, b'E', b'I', after] if is_whitespace(*before) && is_whitespace(*after))
        });
        match found {
            Some(offset) => self.pos = self.pos.saturating_add(offset + 3),
            // No end marker: the image runs to the end of the data.
            None => self.pos = self.data.len(),
        }
    }
}

/// Parses a PDF number leniently: a sign, digits and at most one point; anything after that
/// (a second sign or point, an exponent some producers write) ends it.
fn parse_number(word: &[u8]) -> f64 {
    let mut negative = false;
    let mut bytes = word.iter().copied().peekable();
    // Signs: "+-3" and "--3" occur in damaged files; the last sign counts.
    while let Some(&sign @ (b'+' | b'-')) = bytes.peek() {
        negative = sign == b'-';
        bytes.next();
    }
    let mut value = 0f64;
    let mut scale = 0f64;
    for byte in bytes {
        match byte {
            b'0'..=b'9' => {
                let digit = f64::from(byte - b'0');
                if scale == 0.0 {
                    value = value * 10.0 + digit;
                } else {
                    value += digit * scale;
                    scale /= 10.0;
                }
            }
            b'.' if scale == 0.0 => scale = 0.1,
            _ => break,
        }
    }
    if negative { -value } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operations(data: &[u8]) -> Vec<(String, Vec<Operand<'_>>)> {
        let mut lexer = Lexer::new(data, 64);
        let mut operands = Vec::new();
        let mut out = Vec::new();
        while let Some(op) = lexer.next_operation(&mut operands) {
            out.push((String::from_utf8_lossy(op).into_owned(), operands.clone()));
        }
        out
    }

    #[test]
    fn reads_operators_with_their_operands() {
        let ops = operations(
            b"BT /F1 11 Tf 72 770.5 Td (Jane \\(Doe\\)) Tj [(A) -250 <4243>] TJ ET % comment\n q",
        );
        let names: Vec<_> = ops.iter().map(|(op, _)| op.as_str()).collect();
        assert_eq!(names, ["BT", "Tf", "Td", "Tj", "TJ", "ET", "q"]);
        assert_eq!(ops[1].1, vec![Operand::Name(Cow::Borrowed(b"F1")), Operand::Number(11.0)]);
        assert_eq!(ops[2].1, vec![Operand::Number(72.0), Operand::Number(770.5)]);
        assert_eq!(ops[3].1, vec![Operand::String(Cow::Borrowed(b"Jane (Doe)"))]);
        assert_eq!(
            ops[4].1,
            vec![Operand::Array(vec![
                Operand::String(Cow::Borrowed(b"A")),
                Operand::Number(-250.0),
                Operand::String(Cow::Borrowed(b"BC")),
            ])]
        );
    }

    #[test]
    fn numbers_strings_and_names_are_read_leniently() {
        assert_eq!(parse_number(b"-.5"), -0.5);
        assert_eq!(parse_number(b"--3"), -3.0);
        assert_eq!(parse_number(b"4.-3"), 4.0);
        assert_eq!(parse_number(b"1.0e-5"), 1.0);
        let ops = operations(b"(a\\101\\\nb\\q) <4 1f> /A#42 Tj");
        assert_eq!(ops[0].1[0], Operand::String(Cow::Borrowed(b"aAbq")));
        assert_eq!(ops[0].1[1], Operand::String(Cow::Borrowed(&[0x41, 0xf0])));
        assert_eq!(ops[0].1[2], Operand::Name(Cow::Borrowed(b"AB")));
    }

    #[test]
    fn inline_images_dictionaries_and_nesting_are_skipped() {
        let ops = operations(
            b"/P <</MCID 0 /A [1 [2]] >> BDC BI /W 2 /H 1 /BPC 8 /CS /G ID \x00EI\x01 EI Q [[[1] 2] (x)] TJ",
        );
        let names: Vec<_> = ops.iter().map(|(op, _)| op.as_str()).collect();
        assert_eq!(names, ["BDC", "BI", "Q", "TJ"]);
        assert_eq!(ops[0].1.len(), 2);
        assert_eq!(
            ops[3].1,
            vec![Operand::Array(vec![Operand::Other, Operand::String(Cow::Borrowed(b"x"))])]
        );
    }

    #[test]
    fn damaged_input_ends_without_error() {
        for data in [&b"(unclosed"[..], b"<41", b"[[[[[[", b"<<<<", b")]>} Tj", b"BI /W 1 ID xyz"] {
            let _ = operations(data);
        }
        let deep = vec![b'['; 100_000];
        assert!(operations(&deep).is_empty());
    }
}
