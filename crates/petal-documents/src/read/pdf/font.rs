//! Fonts as the text reader needs them: how a shown string splits into character codes, the
//! text each code stands for (ToUnicode CMap first, then the font's encoding), and how far each
//! glyph advances (`/Widths`, `/W`, or an estimate when the file gives none).

use super::lexer::{Lexer, Operand};
use lopdf::{Dictionary, Document, Object, Stream, dictionary};
use std::collections::HashMap;
use std::rc::Rc;

/// Most mappings kept from one CMap (a full two-byte font needs 65 536).
const MAX_CMAP_ENTRIES: usize = 1 << 17;
/// Most mappings kept from all the CMaps of one document.
const MAX_DOCUMENT_CMAP_ENTRIES: usize = 1 << 19;

/// The text of each byte under a one-byte encoding.
pub(super) type ByteTable = Rc<[Box<str>]>;

/// A range of codes of one length, bounded byte by byte (ISO 32000-1, 9.7.6.2).
#[derive(Debug, Clone, Copy)]
struct CodeRange {
    len: usize,
    lo: [u8; 4],
    hi: [u8; 4],
}

impl CodeRange {
    fn contains(&self, bytes: &[u8]) -> bool {
        bytes.len() == self.len
            && bytes
                .iter()
                .zip(self.lo.iter().zip(self.hi.iter()))
                .all(|(b, (lo, hi))| lo <= b && b <= hi)
    }
}

/// A `bfrange` whose destination is a start value incremented through the range.
#[derive(Debug, Clone)]
struct BfRange {
    len: usize,
    lo: u32,
    hi: u32,
    start: Vec<u16>,
}

/// A CMap: code space, code-to-text mappings (ToUnicode) and code-to-CID mappings (an
/// embedded encoding CMap).
#[derive(Debug, Default)]
pub(super) struct CMap {
    codespace: Vec<CodeRange>,
    singles: HashMap<(usize, u32), Box<str>>,
    ranges: Vec<BfRange>,
    cid_singles: HashMap<(usize, u32), u32>,
    cid_ranges: Vec<(usize, u32, u32, u32)>,
}

fn code_of(bytes: &[u8]) -> Option<(usize, u32)> {
    if bytes.is_empty() || bytes.len() > 4 {
        return None;
    }
    Some((bytes.len(), bytes.iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b))))
}

fn utf16_text(bytes: &[u8]) -> String {
    let units = bytes.chunks(2).map(|pair| match pair {
        [high, low] => u16::from(*high) << 8 | u16::from(*low),
        [single] => u16::from(*single),
        _ => 0xfffd,
    });
    char::decode_utf16(units).map(|c| c.unwrap_or('\u{fffd}')).collect()
}

impl CMap {
    /// Parses a CMap program (ToUnicode or an embedded encoding); what cannot be read is
    /// left out.
    pub(super) fn parse(data: &[u8], glyphs: &mut GlyphNames, doc: &Document) -> Self {
        let mut cmap = CMap::default();
        let mut lexer = Lexer::new(data, 4 * 1024);
        let mut operands = Vec::new();
        let mut entries = 0usize;
        let allowed = MAX_CMAP_ENTRIES.min(glyphs.cmap_entries_left);
        while let Some(op) = lexer.next_operation(&mut operands) {
            match op {
                b"endcodespacerange" => {
                    for pair in operands.chunks_exact(2) {
                        if let [Operand::String(lo), Operand::String(hi)] = pair
                            && lo.len() == hi.len()
                            && (1..=4).contains(&lo.len())
                        {
                            let mut range = CodeRange { len: lo.len(), lo: [0; 4], hi: [0; 4] };
                            for (slot, b) in range.lo.iter_mut().zip(lo.iter()) {
                                *slot = *b;
                            }
                            for (slot, b) in range.hi.iter_mut().zip(hi.iter()) {
                                *slot = *b;
                            }
                            if cmap.codespace.len() < 256 {
                                cmap.codespace.push(range);
                            }
                        }
                    }
                }
                b"endbfchar" => {
                    for pair in operands.chunks_exact(2) {
                        let [source, target] = pair else { continue };
                        let Some(key) = source.string().and_then(code_of) else { continue };
                        let text = match target {
                            Operand::String(bytes) => utf16_text(bytes),
                            Operand::Name(name) => glyphs.text(doc, name).to_owned(),
                            _ => continue,
                        };
                        cmap.singles.insert(key, text.into_boxed_str());
                        entries += 1;
                    }
                }
                b"endbfrange" => {
                    for triple in operands.chunks_exact(3) {
                        let [lo, hi, target] = triple else { continue };
                        let (Some((len, lo)), Some((_, hi))) =
                            (lo.string().and_then(code_of), hi.string().and_then(code_of))
                        else {
                            continue;
                        };
                        if hi < lo {
                            continue;
                        }
                        match target {
                            Operand::String(bytes) if !bytes.is_empty() => {
                                let start = bytes
                                    .chunks(2)
                                    .map(|pair| match pair {
                                        [high, low] => u16::from(*high) << 8 | u16::from(*low),
                                        [single] => u16::from(*single),
                                        _ => 0,
                                    })
                                    .collect();
                                cmap.ranges.push(BfRange { len, lo, hi, start });
                                entries += 1;
                            }
                            Operand::Array(items) => {
                                for (code, item) in (lo..=hi).zip(items.iter()) {
                                    if let Some(bytes) = item.string() {
                                        cmap.singles.insert(
                                            (len, code),
                                            utf16_text(bytes).into_boxed_str(),
                                        );
                                        entries += 1;
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                b"endcidchar" => {
                    for pair in operands.chunks_exact(2) {
                        let [source, cid] = pair else { continue };
                        if let (Some(key), Some(cid)) =
                            (source.string().and_then(code_of), cid.number())
                        {
                            cmap.cid_singles.insert(key, cid.clamp(0.0, 65_535.0) as u32);
                            entries += 1;
                        }
                    }
                }
                b"endcidrange" => {
                    for triple in operands.chunks_exact(3) {
                        let [lo, hi, cid] = triple else { continue };
                        if let (Some((len, lo)), Some((_, hi)), Some(cid)) = (
                            lo.string().and_then(code_of),
                            hi.string().and_then(code_of),
                            cid.number(),
                        ) && lo <= hi
                        {
                            cmap.cid_ranges.push((len, lo, hi, cid.clamp(0.0, 65_535.0) as u32));
                            entries += 1;
                        }
                    }
                }
                _ => {}
            }
            if entries > allowed {
                break;
            }
        }
        glyphs.cmap_entries_left = glyphs.cmap_entries_left.saturating_sub(entries);
        cmap.ranges.sort_by_key(|range| range.lo);
        cmap
    }

    /// Appends the text of `code` (of `len` bytes) to `out`; false when the CMap has none.
    fn push_text(&self, code: u32, len: usize, out: &mut String) -> bool {
        if let Some(text) = self.singles.get(&(len, code)) {
            out.push_str(text);
            return true;
        }
        let end = self.ranges.partition_point(|range| range.lo <= code);
        let candidates = self.ranges.get(..end).unwrap_or_default();
        for range in candidates.iter().rev().take(16) {
            if range.len == len && code <= range.hi {
                let offset = code - range.lo;
                let (last, head) = match range.start.split_last() {
                    Some(split) => split,
                    None => return false,
                };
                let last =
                    u16::try_from(u32::from(*last).wrapping_add(offset) & 0xffff).unwrap_or(0);
                let units = head.iter().copied().chain(std::iter::once(last));
                out.extend(char::decode_utf16(units).map(|c| c.unwrap_or('\u{fffd}')));
                return true;
            }
        }
        false
    }

    /// The CID of a code under an embedded encoding CMap.
    fn cid(&self, code: u32, len: usize) -> Option<u32> {
        if let Some(cid) = self.cid_singles.get(&(len, code)) {
            return Some(*cid);
        }
        self.cid_ranges
            .iter()
            .find(|(l, lo, hi, _)| *l == len && *lo <= code && code <= *hi)
            .map(|(_, lo, _, start)| start.saturating_add(code - lo))
    }
}

/// What fonts share across a document: the text of glyph names (`/Differences` entries,
/// `bfchar` names) and of the standard encodings, and the budget of CMap entries.
pub(super) struct GlyphNames {
    cache: HashMap<Vec<u8>, Box<str>>,
    bases: HashMap<&'static [u8], ByteTable>,
    cmap_entries_left: usize,
}

impl Default for GlyphNames {
    fn default() -> Self {
        Self {
            cache: HashMap::new(),
            bases: HashMap::new(),
            cmap_entries_left: MAX_DOCUMENT_CMAP_ENTRIES,
        }
    }
}

impl GlyphNames {
    /// The text a glyph name stands for: `uniXXXX`, `uXXXX[XX]`, ligature names joined with
    /// `_`, suffixed variants (`a.sc`), or a name of the Adobe Glyph List as lopdf knows it.
    /// Unknown names give nothing.
    pub(super) fn text(&mut self, doc: &Document, name: &[u8]) -> &str {
        if !self.cache.contains_key(name) {
            let text = glyph_text(doc, name, 0);
            if self.cache.len() < 65_536 {
                self.cache.insert(name.to_vec(), text.into_boxed_str());
            } else {
                return "";
            }
        }
        self.cache.get(name).map_or("", |text| text)
    }

    /// The byte table of a standard encoding (`WinAnsiEncoding`, `MacRomanEncoding`,
    /// `MacExpertEncoding`, otherwise `StandardEncoding`).
    pub(super) fn base_table(&mut self, doc: &Document, name: &[u8]) -> ByteTable {
        let name: &'static [u8] = match name {
            b"WinAnsiEncoding" => b"WinAnsiEncoding",
            b"MacRomanEncoding" => b"MacRomanEncoding",
            b"MacExpertEncoding" => b"MacExpertEncoding",
            _ => b"StandardEncoding",
        };
        self.bases
            .entry(name)
            .or_insert_with(|| {
                let font =
                    dictionary! { "Type" => "Font", "Encoding" => Object::Name(name.to_vec()) };
                let encoding = font.get_font_encoding(doc).ok();
                (0u8..=255)
                    .map(|byte| {
                        encoding
                            .as_ref()
                            .and_then(|e| e.bytes_to_string(&[byte]).ok())
                            .unwrap_or_default()
                            .into_boxed_str()
                    })
                    .collect::<Vec<_>>()
                    .into()
            })
            .clone()
    }
}

fn glyph_text(doc: &Document, name: &[u8], depth: usize) -> String {
    if depth > 2 || name.is_empty() {
        return String::new();
    }
    // Variants: "a.sc", "one.oldstyle".
    if let Some(dot) = name.iter().position(|b| *b == b'.')
        && dot > 0
    {
        return glyph_text(doc, name.get(..dot).unwrap_or_default(), depth + 1);
    }
    // Ligatures: "f_f_i".
    if name.contains(&b'_') {
        return name.split(|b| *b == b'_').map(|part| glyph_text(doc, part, depth + 1)).collect();
    }
    let hex = |digits: &[u8]| -> Option<u32> {
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
    };
    if let Some(rest) = name.strip_prefix(b"uni")
        && !rest.is_empty()
        && rest.len() % 4 == 0
        && rest.len() <= 16
    {
        let units: Option<Vec<u16>> =
            rest.chunks(4).map(|chunk| hex(chunk).and_then(|v| u16::try_from(v).ok())).collect();
        if let Some(units) = units {
            return char::decode_utf16(units).map(|c| c.unwrap_or('\u{fffd}')).collect();
        }
    }
    if let Some(rest) = name.strip_prefix(b"u")
        && (4..=6).contains(&rest.len())
        && let Some(c) = hex(rest).and_then(char::from_u32)
    {
        return c.to_string();
    }
    // Names a producer made up ("g12", "cid42", "glyph7") are in no glyph list; asking lopdf
    // about them would only log a warning each.
    let prefix = name.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let (letters, digits) = name.split_at(prefix);
    if !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && matches!(
            letters,
            b"g" | b"G" | b"gid" | b"glyph" | b"cid" | b"index" | b"c" | b"a" | b""
        )
    {
        return String::new();
    }
    // Ask lopdf's glyph list through a one-entry /Differences at code 0, which the base
    // (StandardEncoding) leaves empty: an unknown name gives nothing.
    let font = dictionary! {
        "Type" => "Font",
        "Encoding" => dictionary! {
            "Differences" => vec![Object::Integer(0), Object::Name(name.to_vec())],
        },
    };
    font.get_font_encoding(doc).ok().and_then(|e| e.bytes_to_string(&[0]).ok()).unwrap_or_default()
}

/// How a font's glyph widths are known.
#[derive(Debug)]
enum Widths {
    /// `/FirstChar` and `/Widths`; codes outside use `missing` or an estimate.
    Simple { first: u32, widths: Vec<f64>, missing: Option<f64> },
    /// A CIDFont's `/W` and `/DW`.
    Composite { singles: HashMap<u32, f64>, ranges: Vec<(u32, u32, f64)>, default: f64 },
    /// Nothing in the file (the standard 14 fonts): estimated from the decoded text.
    Estimated,
}

/// The broad shape of a font, for estimating widths the file does not give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Sans,
    Serif,
    Mono,
}

/// A font, ready to decode strings shown with it.
#[derive(Debug)]
pub(super) struct Font {
    /// Composite fonts: the code space (codes of one to four bytes); simple fonts: `None`,
    /// one byte per code.
    codespace: Option<Vec<CodeRange>>,
    to_unicode: Option<CMap>,
    /// Composite fonts with an embedded encoding CMap: codes to CIDs.
    encoding_cmap: Option<CMap>,
    /// Simple fonts: the text of each code under the font's encoding.
    table: Option<ByteTable>,
    widths: Widths,
    family: Family,
    /// Glyph space to text space (0.001, or a Type 3 font's matrix).
    width_scale: f64,
    /// How much taller than the nominal size glyphs are (1, except for Type 3 fonts).
    pub(super) size_scale: f64,
}

/// One character code of a shown string.
#[derive(Debug, Clone, Copy)]
pub(super) struct Code {
    pub(super) code: u32,
    pub(super) len: usize,
}

fn number(doc: &Document, object: &Object) -> Option<f64> {
    let (_, object) = doc.dereference(object).ok()?;
    object.as_float().ok().map(f64::from).filter(|n| n.is_finite())
}

fn dict_of<'d>(doc: &'d Document, object: &'d Object) -> Option<&'d Dictionary> {
    match doc.dereference(object).ok()?.1 {
        Object::Dictionary(dict) => Some(dict),
        Object::Stream(stream) => Some(&stream.dict),
        _ => None,
    }
}

fn array_of<'d>(doc: &'d Document, object: &'d Object) -> Option<&'d [Object]> {
    doc.dereference(object).ok()?.1.as_array().ok().map(Vec::as_slice)
}

fn stream_of<'d>(doc: &'d Document, object: &'d Object) -> Option<&'d Stream> {
    doc.dereference(object).ok()?.1.as_stream().ok()
}

fn family_of(base_font: &[u8]) -> Family {
    let name = String::from_utf8_lossy(base_font).to_ascii_lowercase();
    if ["courier", "mono", "consol", "typewriter"].iter().any(|k| name.contains(k)) {
        Family::Mono
    } else if ["times", "serif", "roman", "georgia", "garamond", "cambria", "minion", "palatino"]
        .iter()
        .any(|k| name.contains(k))
        && !name.contains("sans")
    {
        Family::Serif
    } else {
        Family::Sans
    }
}

/// A rough width (thousandths of an em) for a character of a font whose widths the file does
/// not give. Petal's own estimate by character class, not a font's metrics.
fn estimate(c: char, family: Family) -> f64 {
    if family == Family::Mono {
        return 600.0;
    }
    let sans = match c {
        ' ' | '\u{a0}' => 278.0,
        'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '!' | '|' | '`' => 240.0,
        'f' | 't' | 'r' | 'I' | '(' | ')' | '[' | ']' | '-' | '/' | '"' | '\\' => 320.0,
        'm' | 'M' | 'W' | '@' => 850.0,
        'w' | '%' | '&' => 720.0,
        'A'..='Z' => 680.0,
        '0'..='9' | '$' | '#' | '?' | '_' => 556.0,
        'a'..='z' => 530.0,
        c if c.is_alphabetic() => 600.0,
        _ => 580.0,
    };
    if family == Family::Serif { sans * 0.92 } else { sans }
}

/// What loading a font needs from the reader: stream contents within its budget, and the
/// document-wide glyph-name cache.
pub(super) struct FontLoader<'a, 'd> {
    pub(super) doc: &'d Document,
    pub(super) glyphs: &'a mut GlyphNames,
    pub(super) read_stream: &'a mut dyn FnMut(&Stream) -> Option<Vec<u8>>,
}

impl FontLoader<'_, '_> {
    fn cmap(&mut self, object: Option<&Object>) -> Option<CMap> {
        let stream = stream_of(self.doc, object?)?;
        let data = (self.read_stream)(stream)?;
        Some(CMap::parse(&data, self.glyphs, self.doc))
    }

    /// The byte table of a simple font's `/Encoding` (a name, or a dictionary with
    /// `/BaseEncoding` and `/Differences`).
    fn simple_table(&mut self, font: &Dictionary) -> ByteTable {
        let doc = self.doc;
        let Some(encoding) = font.get(b"Encoding").ok() else {
            return self.glyphs.base_table(doc, b"StandardEncoding");
        };
        let Ok((_, encoding)) = doc.dereference(encoding) else {
            return self.glyphs.base_table(doc, b"StandardEncoding");
        };
        match encoding {
            Object::Name(name) => self.glyphs.base_table(doc, name),
            Object::Dictionary(dict) => {
                let base = dict
                    .get(b"BaseEncoding")
                    .ok()
                    .and_then(|o| o.as_name().ok())
                    .unwrap_or(b"StandardEncoding");
                let base = self.glyphs.base_table(doc, base);
                let Some(differences) =
                    dict.get(b"Differences").ok().and_then(|d| array_of(doc, d))
                else {
                    return base;
                };
                let mut table: Vec<Box<str>> = base.iter().cloned().collect();
                let mut code = 0usize;
                for item in differences {
                    match item {
                        Object::Integer(n) => code = usize::try_from(*n).unwrap_or(256),
                        Object::Name(name) => {
                            if let Some(slot) = table.get_mut(code) {
                                *slot = self.glyphs.text(doc, name).into();
                            }
                            code = code.saturating_add(1);
                        }
                        _ => {}
                    }
                }
                table.into()
            }
            _ => self.glyphs.base_table(doc, b"StandardEncoding"),
        }
    }

    fn simple_widths(&self, font: &Dictionary) -> Widths {
        let doc = self.doc;
        let widths: Option<Vec<f64>> =
            font.get(b"Widths").ok().and_then(|w| array_of(doc, w)).map(|items| {
                items.iter().take(65_536).map(|w| number(doc, w).unwrap_or(0.0)).collect()
            });
        let first = font
            .get(b"FirstChar")
            .ok()
            .and_then(|f| number(doc, f))
            .map_or(0, |f| f.clamp(0.0, 65_535.0) as u32);
        let missing = font
            .get(b"FontDescriptor")
            .ok()
            .and_then(|d| dict_of(doc, d))
            .and_then(|d| d.get(b"MissingWidth").ok())
            .and_then(|m| number(doc, m))
            .filter(|m| *m > 0.0);
        match widths {
            Some(widths) if !widths.is_empty() => Widths::Simple { first, widths, missing },
            _ => Widths::Estimated,
        }
    }

    fn composite_widths(&self, descendant: Option<&Dictionary>) -> Widths {
        let doc = self.doc;
        let default = descendant
            .and_then(|d| d.get(b"DW").ok())
            .and_then(|w| number(doc, w))
            .unwrap_or(1000.0);
        let mut singles = HashMap::new();
        let mut ranges = Vec::new();
        let items = descendant.and_then(|d| d.get(b"W").ok()).and_then(|w| array_of(doc, w));
        let mut items = items.unwrap_or_default().iter();
        let cid = |o: &Object| number(doc, o).map(|n| n.clamp(0.0, 16_777_215.0) as u32);
        while let Some(first) = items.next() {
            let Some(first) = cid(first) else { break };
            let Some(next) = items.next() else { break };
            if let Some(list) = array_of(doc, next) {
                for (code, w) in (first..).zip(list.iter().take(65_536)) {
                    singles.insert(code, number(doc, w).unwrap_or(default));
                }
            } else {
                let (Some(last), Some(w)) = (cid(next), items.next().and_then(|w| number(doc, w)))
                else {
                    break;
                };
                if first <= last {
                    ranges.push((first, last, w));
                }
            }
            if singles.len() + ranges.len() > MAX_CMAP_ENTRIES {
                break;
            }
        }
        Widths::Composite { singles, ranges, default }
    }

    /// Loads a font dictionary.
    pub(super) fn load(&mut self, font: &Dictionary) -> Font {
        let doc = self.doc;
        let subtype = font.get(b"Subtype").ok().and_then(|s| s.as_name().ok()).unwrap_or_default();
        let base_font =
            font.get(b"BaseFont").ok().and_then(|s| s.as_name().ok()).unwrap_or_default();
        let to_unicode = self.cmap(font.get(b"ToUnicode").ok());
        if subtype == b"Type0" {
            let descendant = font
                .get(b"DescendantFonts")
                .ok()
                .and_then(|d| array_of(doc, d))
                .and_then(|d| d.first())
                .and_then(|d| dict_of(doc, d));
            let encoding =
                font.get(b"Encoding").ok().and_then(|e| doc.dereference(e).ok()).map(|e| e.1);
            let two_bytes = vec![CodeRange { len: 2, lo: [0; 4], hi: [0xff, 0xff, 0, 0] }];
            let (codespace, encoding_cmap) = match encoding {
                Some(Object::Stream(stream)) => {
                    let cmap =
                        (self.read_stream)(stream).map(|data| CMap::parse(&data, self.glyphs, doc));
                    let codespace = cmap
                        .as_ref()
                        .filter(|c| !c.codespace.is_empty())
                        .map_or(two_bytes, |c| c.codespace.clone());
                    (codespace, cmap)
                }
                Some(Object::Name(name)) if !name.starts_with(b"Identity") => {
                    let codespace = to_unicode
                        .as_ref()
                        .filter(|c| !c.codespace.is_empty())
                        .map_or(two_bytes, |c| c.codespace.clone());
                    (codespace, None)
                }
                _ => (two_bytes, None),
            };
            return Font {
                codespace: Some(codespace),
                to_unicode,
                encoding_cmap,
                table: None,
                widths: self.composite_widths(descendant),
                family: family_of(base_font),
                width_scale: 0.001,
                size_scale: 1.0,
            };
        }
        let table = self.simple_table(font);
        let widths = self.simple_widths(font);
        let (width_scale, size_scale) = if subtype == b"Type3" {
            let matrix: Vec<f64> = font
                .get(b"FontMatrix")
                .ok()
                .and_then(|m| array_of(doc, m))
                .map(|m| m.iter().map(|v| number(doc, v).unwrap_or(0.0)).collect())
                .unwrap_or_default();
            let a = matrix.first().copied().filter(|a| *a != 0.0).unwrap_or(0.001);
            let d = matrix.get(3).copied().filter(|d| *d != 0.0).unwrap_or(0.001);
            (a, (d * 1000.0).abs())
        } else {
            (0.001, 1.0)
        };
        Font {
            codespace: None,
            to_unicode,
            encoding_cmap: None,
            table: Some(table),
            widths,
            family: family_of(base_font),
            width_scale,
            size_scale,
        }
    }
}

impl Font {
    /// A stand-in for text shown before any font is set: one byte per code, standard
    /// encoding, estimated widths.
    pub(super) fn fallback(table: ByteTable) -> Self {
        Font {
            codespace: None,
            to_unicode: None,
            encoding_cmap: None,
            table: Some(table),
            widths: Widths::Estimated,
            family: Family::Sans,
            width_scale: 0.001,
            size_scale: 1.0,
        }
    }

    /// Splits a shown string into character codes.
    pub(super) fn codes<'b>(&'b self, bytes: &'b [u8]) -> impl Iterator<Item = Code> + 'b {
        let mut rest = bytes;
        std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let len = match &self.codespace {
                None => 1,
                Some(codespace) => {
                    let matched = (1..=4).find(|len| {
                        rest.get(..*len)
                            .is_some_and(|head| codespace.iter().any(|range| range.contains(head)))
                    });
                    matched.unwrap_or_else(|| {
                        codespace.iter().map(|r| r.len).min().unwrap_or(1).clamp(1, 4)
                    })
                }
            };
            let len = len.min(rest.len());
            let (head, tail) = rest.split_at(len);
            rest = tail;
            let code = head.iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b));
            Some(Code { code, len })
        })
    }

    /// Appends the text of a code to `out`.
    pub(super) fn push_text(&self, code: Code, out: &mut String) {
        if let Some(cmap) = &self.to_unicode {
            if cmap.push_text(code.code, code.len, out) {
                return;
            }
            // Some producers write one-byte codes as two-byte entries.
            if code.len == 1 && cmap.push_text(code.code, 2, out) {
                return;
            }
        }
        if let Some(table) = &self.table
            && let Some(text) = usize::try_from(code.code).ok().and_then(|c| table.get(c))
        {
            out.push_str(text);
        }
    }

    /// How far the glyph of `code` advances, in text space units per unit of font size;
    /// `text` is what the code decoded to (for estimating).
    pub(super) fn advance(&self, code: Code, text: &str) -> f64 {
        let estimated = || {
            let width: f64 = text.chars().map(|c| estimate(c, self.family)).sum();
            if text.is_empty() { 500.0 } else { width }
        };
        let width = match &self.widths {
            Widths::Simple { first, widths, missing } => code
                .code
                .checked_sub(*first)
                .and_then(|i| widths.get(usize::try_from(i).ok()?))
                .copied()
                .or(*missing)
                .unwrap_or_else(estimated),
            Widths::Composite { singles, ranges, default } => {
                let cid = self
                    .encoding_cmap
                    .as_ref()
                    .and_then(|cmap| cmap.cid(code.code, code.len))
                    .unwrap_or(code.code);
                singles
                    .get(&cid)
                    .copied()
                    .or_else(|| {
                        ranges.iter().find(|(lo, hi, _)| *lo <= cid && cid <= *hi).map(|r| r.2)
                    })
                    .unwrap_or(*default)
            }
            Widths::Estimated => estimated(),
        };
        let advance = width * self.width_scale;
        if advance.is_finite() { advance.clamp(-100.0, 100.0) } else { 0.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_to_unicode_cmap_maps_chars_ranges_and_ligatures() {
        let doc = Document::new();
        let mut glyphs = GlyphNames::default();
        let cmap = CMap::parse(
            b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
              /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
              1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
              3 beginbfchar <0003> <0020> <0010> <00660069> <0011> /fl endbfchar\n\
              2 beginbfrange <0044> <0046> <0061> <0050> <0051> [<0041> <0042>] endbfrange\n\
              endcmap CMapName currentdict /CMap defineresource pop end end",
            &mut glyphs,
            &doc,
        );
        let mut out = String::new();
        for code in [0x44, 0x46, 0x03, 0x10, 0x11, 0x51] {
            assert!(cmap.push_text(code, 2, &mut out), "{code:x}");
        }
        assert_eq!(out, "ac fi\u{fb02}B");
        assert!(!cmap.push_text(0x47, 2, &mut out));
        assert!(!cmap.push_text(0x44, 1, &mut out));
    }

    #[test]
    fn glyph_names_resolve() {
        let doc = Document::new();
        let mut glyphs = GlyphNames::default();
        assert_eq!(glyphs.text(&doc, b"A"), "A");
        assert_eq!(glyphs.text(&doc, b"eacute"), "é");
        assert_eq!(glyphs.text(&doc, b"uni00660069"), "fi");
        assert_eq!(glyphs.text(&doc, b"u1F600"), "😀");
        assert_eq!(glyphs.text(&doc, b"f_f_i"), "ffi");
        assert_eq!(glyphs.text(&doc, b"a.sc"), "a");
        assert_eq!(glyphs.text(&doc, b"g123"), "");
        let table = glyphs.base_table(&doc, b"WinAnsiEncoding");
        assert_eq!(table.get(0x80).map(|s| &**s), Some("€"));
    }
}
