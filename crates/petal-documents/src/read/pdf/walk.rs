//! The content-stream walk: interprets a page's operators (graphics and text state, colour,
//! clipping, form XObjects) and records each shown string as a run, placed in page space and
//! sorted into what a person sees and what they would not.

use super::font::{Font, FontLoader, GlyphNames};
use super::lexer::{Lexer, Operand};
use crate::read::ReadError;
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

/// Operators between two looks at the clock.
const OPERATORS_PER_CHECK: u64 = 1_000;
/// Deepest nesting of form XObjects drawn inside one another.
const MAX_FORM_DEPTH: usize = 8;
/// Most form XObjects drawn in one document.
const MAX_FORMS_DRAWN: usize = 10_000;
/// Deepest `q` nesting kept; deeper saves are counted, not stored.
const MAX_STATE_DEPTH: usize = 256;
/// Most operands kept for one operator.
const MAX_OPERANDS: usize = 64;
/// Most separate runs of text in one document (each line of a page is usually one or two).
const MAX_RUNS: usize = 200_000;
/// Most filled areas remembered per page (for backgrounds and covering rectangles).
const MAX_FILLS: usize = 4_000;
/// Below this size (in points, after every scaling) text is too small to read.
const MIN_READABLE_SIZE: f64 = 2.0;
/// A gap along the baseline wider than this (in ems) separates two words.
pub(super) const SPACE_GAP: f64 = 0.15;
/// Runs closer than this (in ems) are joined as they are recorded.
const JOIN_GAP: f64 = 0.8;

/// An affine transformation `[a b c d e f]`, applied to row vectors as in the PDF reference.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Matrix {
    a: f64,
    b: f64,
    c: f64,
    d: f64,
    e: f64,
    f: f64,
}

impl Matrix {
    const IDENTITY: Matrix = Matrix { a: 1.0, b: 0.0, c: 0.0, d: 1.0, e: 0.0, f: 0.0 };

    fn from_operands(operands: &[Operand<'_>]) -> Option<Matrix> {
        let mut values = operands.iter().map(Operand::number);
        let mut next = || values.next().flatten();
        Some(Matrix { a: next()?, b: next()?, c: next()?, d: next()?, e: next()?, f: next()? })
    }

    fn from_object(doc: &Document, object: Option<&Object>) -> Matrix {
        let values: Vec<f64> = object
            .and_then(|o| doc.dereference(o).ok())
            .and_then(|(_, o)| o.as_array().ok())
            .map(|items| {
                items
                    .iter()
                    .filter_map(|v| v.as_float().ok().map(f64::from).filter(|v| v.is_finite()))
                    .collect()
            })
            .unwrap_or_default();
        match values.as_slice() {
            [a, b, c, d, e, f] => Matrix { a: *a, b: *b, c: *c, d: *d, e: *e, f: *f },
            _ => Matrix::IDENTITY,
        }
    }

    /// `self × other`: first this transformation, then `other`.
    fn then(&self, other: &Matrix) -> Matrix {
        Matrix {
            a: self.a * other.a + self.b * other.c,
            b: self.a * other.b + self.b * other.d,
            c: self.c * other.a + self.d * other.c,
            d: self.c * other.b + self.d * other.d,
            e: self.e * other.a + self.f * other.c + other.e,
            f: self.e * other.b + self.f * other.d + other.f,
        }
    }

    fn point(&self, x: f64, y: f64) -> (f64, f64) {
        (self.a * x + self.c * y + self.e, self.b * x + self.d * y + self.f)
    }

    fn vector(&self, x: f64, y: f64) -> (f64, f64) {
        (self.a * x + self.c * y, self.b * x + self.d * y)
    }

    /// Moves the origin by `(x, y)` in this matrix's own space.
    fn translate(&mut self, x: f64, y: f64) {
        self.e += x * self.a + y * self.c;
        self.f += x * self.b + y * self.d;
    }
}

/// An axis-aligned rectangle in page space.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Rect {
    pub(super) x0: f64,
    pub(super) y0: f64,
    pub(super) x1: f64,
    pub(super) y1: f64,
}

impl Rect {
    const EVERYWHERE: Rect = Rect { x0: -1e12, y0: -1e12, x1: 1e12, y1: 1e12 };

    fn around(points: &[(f64, f64)]) -> Option<Rect> {
        let mut rect: Option<Rect> = None;
        for (x, y) in points {
            if !x.is_finite() || !y.is_finite() {
                return None;
            }
            rect = Some(match rect {
                None => Rect { x0: *x, y0: *y, x1: *x, y1: *y },
                Some(r) => {
                    Rect { x0: r.x0.min(*x), y0: r.y0.min(*y), x1: r.x1.max(*x), y1: r.y1.max(*y) }
                }
            });
        }
        rect
    }

    fn from_object(doc: &Document, object: Option<&Object>) -> Option<Rect> {
        let (_, object) = doc.dereference(object?).ok()?;
        let values: Vec<f64> = object
            .as_array()
            .ok()?
            .iter()
            .filter_map(|v| doc.dereference(v).ok()?.1.as_float().ok().map(f64::from))
            .collect();
        match values.as_slice() {
            [x0, y0, x1, y1] => Rect::around(&[(*x0, *y0), (*x1, *y1)]),
            _ => None,
        }
    }

    fn union(&self, other: &Rect) -> Rect {
        Rect {
            x0: self.x0.min(other.x0),
            y0: self.y0.min(other.y0),
            x1: self.x1.max(other.x1),
            y1: self.y1.max(other.y1),
        }
    }

    fn intersection(&self, other: &Rect) -> Option<Rect> {
        let rect = Rect {
            x0: self.x0.max(other.x0),
            y0: self.y0.max(other.y0),
            x1: self.x1.min(other.x1),
            y1: self.y1.min(other.y1),
        };
        (rect.x0 <= rect.x1 && rect.y0 <= rect.y1).then_some(rect)
    }

    fn contains_point(&self, (x, y): (f64, f64)) -> bool {
        self.x0 <= x && x <= self.x1 && self.y0 <= y && y <= self.y1
    }

    fn contains(&self, other: &Rect) -> bool {
        self.x0 <= other.x0 && other.x1 <= self.x1 && self.y0 <= other.y0 && other.y1 <= self.y1
    }

    fn transformed(&self, matrix: &Matrix) -> Option<Rect> {
        Rect::around(&[
            matrix.point(self.x0, self.y0),
            matrix.point(self.x1, self.y0),
            matrix.point(self.x0, self.y1),
            matrix.point(self.x1, self.y1),
        ])
    }
}

/// A colour space, as far as telling white (or invisible) paint goes.
#[derive(Debug, Clone, PartialEq)]
enum ColourSpace {
    Gray,
    Rgb,
    Cmyk,
    Lab,
    /// A spot colour; `none` for the `/None` colorant, which never marks the page.
    Separation {
        none: bool,
    },
    DeviceN(usize),
    Indexed {
        base: Box<ColourSpace>,
        table: Vec<u8>,
    },
    Pattern,
    Unknown,
}

impl ColourSpace {
    fn components(&self) -> usize {
        match self {
            ColourSpace::Gray | ColourSpace::Separation { .. } | ColourSpace::Indexed { .. } => 1,
            ColourSpace::Rgb | ColourSpace::Lab => 3,
            ColourSpace::Cmyk => 4,
            ColourSpace::DeviceN(n) => *n,
            ColourSpace::Pattern | ColourSpace::Unknown => 0,
        }
    }

    /// The colour a space starts with when selected (black, or the first table entry).
    fn initial(&self) -> Vec<f64> {
        match self {
            ColourSpace::Cmyk => vec![0.0, 0.0, 0.0, 1.0],
            ColourSpace::Separation { .. } => vec![1.0],
            ColourSpace::DeviceN(n) => vec![1.0; *n],
            other => vec![0.0; other.components()],
        }
    }

    /// The paint of `components` in this space.
    fn paint(&self, components: &[f64]) -> Paint {
        let all = |test: &dyn Fn(f64) -> bool| {
            !components.is_empty() && components.iter().all(|c| test(*c))
        };
        match self {
            ColourSpace::Gray => Paint {
                white: all(&|c| c >= 0.95),
                luminance: components.first().map(|c| c.clamp(0.0, 1.0)),
            },
            ColourSpace::Rgb => Paint {
                white: components.len() >= 3 && all(&|c| c >= 0.95),
                luminance: match components {
                    [r, g, b, ..] => Some(0.2126 * r + 0.7152 * g + 0.0722 * b),
                    _ => None,
                },
            },
            ColourSpace::Cmyk => Paint {
                white: components.len() >= 4 && all(&|c| c <= 0.05),
                luminance: match components {
                    [c, m, y, k, ..] => {
                        let rgb = [c, m, y]
                            .map(|v| (1.0 - v.clamp(0.0, 1.0)) * (1.0 - k.clamp(0.0, 1.0)));
                        Some(0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2])
                    }
                    _ => None,
                },
            },
            ColourSpace::Lab => match components {
                [l, a, b, ..] => Paint {
                    white: *l >= 95.0 && a.abs() <= 5.0 && b.abs() <= 5.0,
                    luminance: Some((l / 100.0).clamp(0.0, 1.0)),
                },
                _ => Paint::UNKNOWN,
            },
            ColourSpace::Separation { none: true } => Paint { white: true, luminance: None },
            ColourSpace::Separation { none: false } | ColourSpace::DeviceN(_) => Paint {
                white: all(&|c| c <= 0.05),
                luminance: components.first().map(|t| 1.0 - t.clamp(0.0, 1.0)),
            },
            ColourSpace::Indexed { base, table } => {
                let n = base.components();
                let index = components.first().map_or(0, |i| i.clamp(0.0, 255.0).round() as usize);
                let entry = table.get(index * n..index * n + n);
                match entry {
                    Some(entry) => {
                        let values: Vec<f64> =
                            entry.iter().map(|v| f64::from(*v) / 255.0).collect();
                        base.paint(&values)
                    }
                    None => Paint::UNKNOWN,
                }
            }
            ColourSpace::Pattern | ColourSpace::Unknown => Paint::UNKNOWN,
        }
    }
}

/// What a colour looks like on paper.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Paint {
    /// White or near-white, or paint that never marks the page.
    white: bool,
    /// Relative luminance from 0 (black) to 1 (white), when the colour space tells.
    luminance: Option<f64>,
}

impl Paint {
    const BLACK: Paint = Paint { white: false, luminance: Some(0.0) };
    const UNKNOWN: Paint = Paint { white: false, luminance: None };
}

/// The graphics state, text state included (`q` saves both).
#[derive(Debug, Clone)]
struct State {
    ctm: Matrix,
    clip: Rect,
    fill_space: Rc<ColourSpace>,
    stroke_space: Rc<ColourSpace>,
    fill: Paint,
    stroke: Paint,
    fill_alpha: f64,
    stroke_alpha: f64,
    /// Painting replaces what is below (normal blend mode).
    normal_blend: bool,
    font: Option<Rc<Font>>,
    size: f64,
    char_spacing: f64,
    word_spacing: f64,
    horizontal_scale: f64,
    leading: f64,
    rise: f64,
    render_mode: i64,
}

impl State {
    fn new(clip: Rect) -> Self {
        let gray = Rc::new(ColourSpace::Gray);
        State {
            ctm: Matrix::IDENTITY,
            clip,
            fill_space: gray.clone(),
            stroke_space: gray,
            fill: Paint::BLACK,
            stroke: Paint::BLACK,
            fill_alpha: 1.0,
            stroke_alpha: 1.0,
            normal_blend: true,
            font: None,
            size: 0.0,
            char_spacing: 0.0,
            word_spacing: 0.0,
            horizontal_scale: 1.0,
            leading: 0.0,
            rise: 0.0,
            render_mode: 0,
        }
    }
}

/// Text shown on a page, with where it sits (page space).
#[derive(Debug, Clone)]
pub(super) struct Run {
    /// Baseline start and end.
    pub(super) start: (f64, f64),
    pub(super) end: (f64, f64),
    /// Effective font size in points.
    pub(super) size: f64,
    /// The baseline's direction: 0 left to right, 1 upwards, 2 right to left, 3 downwards.
    pub(super) direction: u8,
    pub(super) text: String,
    /// Where the glyphs' middle band lies (for covering rectangles).
    core: Rect,
    /// Paint order of the last text joined into this run.
    order: u64,
    /// Characters shown, for telling letter spacing from word spacing.
    chars: usize,
    /// Joins wider than a space would be in unspaced text: where in `text`, and how wide (in
    /// ems). Spaces are inserted by [`Run::settle`] once the whole run is known.
    joins: Vec<Join>,
}

/// A gap between two pieces of a run.
#[derive(Debug, Clone, Copy)]
struct Join {
    /// Byte offset in the run's text; `None` when white space is already there.
    at: Option<u32>,
    /// Width in ems.
    gap: f32,
}

impl Run {
    /// Inserts the spaces that the run's gaps stand for. A gap means a space when it is wider
    /// than [`SPACE_GAP`] plus the run's letter spacing: zero for most text, but when most
    /// glyphs stand apart (text set with letter spacing, glyph by glyph), the median gap.
    pub(super) fn settle(&mut self) {
        if self.joins.is_empty() {
            return;
        }
        let adjacencies = self.chars.saturating_sub(1);
        let mut threshold = SPACE_GAP;
        if self.joins.len() >= 3 && self.joins.len() * 2 > adjacencies {
            let mut gaps: Vec<f32> = self.joins.iter().map(|j| j.gap).collect();
            gaps.sort_by(f32::total_cmp);
            let median = gaps.get(gaps.len() / 2).copied().unwrap_or(0.0);
            threshold = f64::from(median) + SPACE_GAP;
        }
        let mut text = String::with_capacity(self.text.len() + self.joins.len());
        let mut copied = 0usize;
        for join in std::mem::take(&mut self.joins) {
            let Some(at) = join.at.and_then(|at| usize::try_from(at).ok()) else { continue };
            if f64::from(join.gap) <= threshold || at < copied {
                continue;
            }
            let Some(piece) = self.text.get(copied..at) else { continue };
            text.push_str(piece);
            text.push(' ');
            copied = at;
        }
        text.push_str(self.text.get(copied..).unwrap_or_default());
        self.text = text;
    }
}

/// Distances along a baseline direction and across it.
pub(super) fn along_across(direction: u8, (dx, dy): (f64, f64)) -> (f64, f64) {
    match direction {
        1 => (dy, -dx),
        2 => (-dx, -dy),
        3 => (-dy, dx),
        _ => (dx, dy),
    }
}

fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// Appends `run` to `runs`, joining it to the last run when it continues the same line.
/// True when it was added as a run of its own.
fn push_run(runs: &mut Vec<Run>, run: Run) -> bool {
    if let Some(last) = runs.last_mut()
        && last.direction == run.direction
    {
        let size = last.size.max(run.size);
        let (along, across) =
            along_across(run.direction, (run.start.0 - last.end.0, run.start.1 - last.end.1));
        let similar = run.size <= last.size * 1.5 && last.size <= run.size * 1.5;
        if similar && across.abs() < 0.2 * size && along > -0.5 * size && along <= JOIN_GAP * size {
            if along > SPACE_GAP * size {
                let spaced = last.text.ends_with(is_space) || run.text.starts_with(is_space);
                let at = if spaced { None } else { u32::try_from(last.text.len()).ok() };
                last.joins.push(Join { at, gap: (along / size) as f32 });
            }
            let offset = u32::try_from(last.text.len()).unwrap_or(u32::MAX);
            last.joins.extend(run.joins.iter().map(|join| Join {
                at: join.at.and_then(|at| at.checked_add(offset)),
                gap: join.gap,
            }));
            last.chars += run.chars;
            last.text.push_str(&run.text);
            last.end = run.end;
            last.core = last.core.union(&run.core);
            last.order = run.order;
            return false;
        }
    }
    runs.push(run);
    true
}

/// A filled area.
#[derive(Debug, Clone, Copy)]
struct Fill {
    rect: Rect,
    paint: Paint,
    order: u64,
    /// Made of rectangles only (so `rect` is exactly what was painted).
    rectangles: bool,
    opaque: bool,
}

/// The text of one page.
#[derive(Debug, Default)]
pub(super) struct PageText {
    pub(super) visible: Vec<Run>,
    pub(super) hidden: Vec<Run>,
    fills: Vec<Fill>,
}

impl PageText {
    /// Moves visible runs that an opaque rectangle painted later covers entirely to the hidden
    /// ones.
    fn cover(&mut self) {
        if self.fills.is_empty() {
            return;
        }
        let fills = &self.fills;
        let (covered, shown): (Vec<Run>, Vec<Run>) =
            std::mem::take(&mut self.visible).into_iter().partition(|run| {
                fills.iter().any(|fill| {
                    fill.order > run.order
                        && fill.rectangles
                        && fill.opaque
                        && fill.rect.contains(&run.core)
                })
            });
        self.visible = shown;
        for run in covered {
            let _ = push_run(&mut self.hidden, run);
        }
    }
}

/// What is shared by every page of a document: caches, budgets and the deadline.
pub(super) struct Reader<'d> {
    doc: &'d Document,
    deadline: Instant,
    glyphs: GlyphNames,
    fonts: HashMap<FontKey, Rc<Font>>,
    fallback: Rc<Font>,
    forms: HashMap<ObjectId, Rc<Vec<u8>>>,
    operators: u64,
    runs: usize,
    forms_drawn: usize,
    text_bytes: usize,
    max_text_bytes: usize,
    decoded_bytes: usize,
    max_stream_bytes: usize,
    max_decoded_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum FontKey {
    Object(ObjectId),
    /// A font dictionary written directly into a resource dictionary, by address (the
    /// document does not change while it is read).
    Direct(usize),
}

/// Decodes a stream within the per-stream and per-document budgets.
fn decode_stream(
    stream: &Stream,
    max_stream: usize,
    decoded: &mut usize,
    max_decoded: usize,
    failure: &mut Option<ReadError>,
) -> Option<Vec<u8>> {
    match stream.get_plain_content_with_limit(max_stream) {
        Ok(data) => {
            *decoded = decoded.saturating_add(data.len());
            if *decoded > max_decoded {
                *failure = Some(ReadError::TooLarge);
                return None;
            }
            Some(data)
        }
        Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) => {
            *failure = Some(ReadError::TooLarge);
            None
        }
        Err(_) => None,
    }
}

fn dict_of<'d>(doc: &'d Document, object: &'d Object) -> Option<&'d Dictionary> {
    match doc.dereference(object).ok()?.1 {
        Object::Dictionary(dict) => Some(dict),
        Object::Stream(stream) => Some(&stream.dict),
        _ => None,
    }
}

/// A named resource of a category (`/Font`, `/XObject`, …).
fn resource<'d>(
    doc: &'d Document,
    resources: Option<&'d Dictionary>,
    category: &[u8],
    name: &[u8],
) -> Option<&'d Object> {
    let category = dict_of(doc, resources?.get(category).ok()?)?;
    category.get(name).ok()
}

/// A page attribute, looked up through the page tree (`/Resources`, `/MediaBox`, …).
fn inherited<'d>(doc: &'d Document, page: &'d Dictionary, key: &[u8]) -> Option<&'d Object> {
    let mut node = page;
    for _ in 0..64 {
        if let Ok(value) = node.get(key) {
            return doc.dereference(value).ok().map(|(_, o)| o);
        }
        node = dict_of(doc, node.get(b"Parent").ok()?)?;
    }
    None
}

impl<'d> Reader<'d> {
    pub(super) fn new(
        doc: &'d Document,
        deadline: Instant,
        max_stream_bytes: usize,
        max_decoded_bytes: usize,
        max_text_bytes: usize,
    ) -> Self {
        let mut glyphs = GlyphNames::default();
        let fallback = Rc::new(Font::fallback(glyphs.base_table(doc, b"StandardEncoding")));
        Reader {
            doc,
            deadline,
            glyphs,
            fonts: HashMap::new(),
            fallback,
            forms: HashMap::new(),
            operators: 0,
            runs: 0,
            forms_drawn: 0,
            text_bytes: 0,
            max_text_bytes,
            decoded_bytes: 0,
            max_stream_bytes,
            max_decoded_bytes,
        }
    }

    fn check_deadline(&self) -> Result<(), ReadError> {
        if Instant::now() >= self.deadline { Err(ReadError::TimedOut) } else { Ok(()) }
    }

    fn decode(&mut self, stream: &Stream) -> Result<Option<Vec<u8>>, ReadError> {
        let mut failure = None;
        let data = decode_stream(
            stream,
            self.max_stream_bytes,
            &mut self.decoded_bytes,
            self.max_decoded_bytes,
            &mut failure,
        );
        match failure {
            Some(error) => Err(error),
            None => Ok(data),
        }
    }

    fn font(
        &mut self,
        resources: Option<&'d Dictionary>,
        name: &[u8],
    ) -> Result<Option<Rc<Font>>, ReadError> {
        let doc = self.doc;
        let Some(entry) = resource(doc, resources, b"Font", name) else { return Ok(None) };
        let key = match entry {
            Object::Reference(id) => FontKey::Object(*id),
            other => FontKey::Direct(std::ptr::from_ref(other) as usize),
        };
        let Some(dict) = dict_of(doc, entry) else { return Ok(None) };
        self.load_font(key, dict).map(Some)
    }

    /// The font of a dictionary, from the cache or loaded into it.
    fn load_font(&mut self, key: FontKey, dict: &'d Dictionary) -> Result<Rc<Font>, ReadError> {
        if let Some(font) = self.fonts.get(&key) {
            return Ok(font.clone());
        }
        self.check_deadline()?;
        let doc = self.doc;
        let mut failure = None;
        let (max_stream, max_decoded) = (self.max_stream_bytes, self.max_decoded_bytes);
        let decoded = &mut self.decoded_bytes;
        let mut read_stream =
            |stream: &Stream| decode_stream(stream, max_stream, decoded, max_decoded, &mut failure);
        let font =
            FontLoader { doc, glyphs: &mut self.glyphs, read_stream: &mut read_stream }.load(dict);
        if let Some(error) = failure {
            return Err(error);
        }
        let font = Rc::new(font);
        self.fonts.insert(key, font.clone());
        Ok(font)
    }

    /// Walks one page. `None` when none of its content streams could be decoded.
    pub(super) fn page(&mut self, page_id: ObjectId) -> Result<Option<PageText>, ReadError> {
        let doc = self.doc;
        self.check_deadline()?;
        let Ok(page) = doc.get_dictionary(page_id) else { return Ok(None) };
        let resources = inherited(doc, page, b"Resources").and_then(|r| r.as_dict().ok());
        let media = Rect::from_object(doc, inherited(doc, page, b"MediaBox"));
        let crop = Rect::from_object(doc, inherited(doc, page, b"CropBox"));
        let visible_area = match (media, crop) {
            (Some(media), Some(crop)) => media.intersection(&crop).unwrap_or(media),
            (Some(media), None) => media,
            (None, Some(crop)) => crop,
            (None, None) => Rect::EVERYWHERE,
        };
        let ids = doc.get_page_contents(page_id);
        let mut content = Vec::new();
        let mut decoded_any = ids.is_empty();
        for id in ids {
            let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else { continue };
            if let Some(data) = self.decode(stream)? {
                content.extend_from_slice(&data);
                content.push(b'\n');
                decoded_any = true;
            }
        }
        if !decoded_any {
            return Ok(None);
        }
        let mut walk = Walk {
            reader: self,
            state: State::new(visible_area),
            saved: Vec::new(),
            unsaved: 0,
            text_matrix: Matrix::IDENTITY,
            line_matrix: Matrix::IDENTITY,
            path: None,
            path_rectangles: true,
            clip_pending: false,
            order: 0,
            out: PageText::default(),
            forms: Vec::new(),
        };
        walk.run(&content, resources, 0)?;
        let mut out = walk.out;
        out.cover();
        for run in out.visible.iter_mut().chain(out.hidden.iter_mut()) {
            run.settle();
        }
        Ok(Some(out))
    }
}

/// The walk of one page's content (and the forms it draws).
struct Walk<'r, 'd> {
    reader: &'r mut Reader<'d>,
    state: State,
    saved: Vec<State>,
    /// `q` operators past the depth kept, still to be matched by `Q`.
    unsaved: usize,
    text_matrix: Matrix,
    line_matrix: Matrix,
    /// The current path's bounds in page space.
    path: Option<Rect>,
    path_rectangles: bool,
    clip_pending: bool,
    order: u64,
    out: PageText,
    /// Forms being drawn, innermost last.
    forms: Vec<ObjectId>,
}

impl<'d> Walk<'_, 'd> {
    fn run(
        &mut self,
        content: &[u8],
        resources: Option<&'d Dictionary>,
        depth: usize,
    ) -> Result<(), ReadError> {
        let mut lexer = Lexer::new(content, MAX_OPERANDS);
        let mut operands = Vec::new();
        while let Some(operator) = lexer.next_operation(&mut operands) {
            self.reader.operators += 1;
            if self.reader.operators.is_multiple_of(OPERATORS_PER_CHECK) {
                self.reader.check_deadline()?;
            }
            self.operate(operator, &operands, resources, depth)?;
        }
        Ok(())
    }

    fn number(operands: &[Operand<'_>], index: usize) -> Option<f64> {
        operands.get(index).and_then(Operand::number)
    }

    fn operate(
        &mut self,
        operator: &[u8],
        operands: &[Operand<'_>],
        resources: Option<&'d Dictionary>,
        depth: usize,
    ) -> Result<(), ReadError> {
        let n = |i| Self::number(operands, i);
        let state = &mut self.state;
        match operator {
            b"q" => {
                if self.saved.len() < MAX_STATE_DEPTH {
                    self.saved.push(state.clone());
                } else {
                    self.unsaved = self.unsaved.saturating_add(1);
                }
            }
            b"Q" => {
                if self.unsaved > 0 {
                    self.unsaved -= 1;
                } else if let Some(saved) = self.saved.pop() {
                    *state = saved;
                }
            }
            b"cm" => {
                if let Some(matrix) = Matrix::from_operands(operands) {
                    state.ctm = matrix.then(&state.ctm);
                }
            }
            b"BT" => {
                self.text_matrix = Matrix::IDENTITY;
                self.line_matrix = Matrix::IDENTITY;
            }
            b"Tf" => {
                if let Some(size) = n(1) {
                    state.size = size;
                }
                if let Some(name) = operands.first().and_then(Operand::name) {
                    self.state.font = self.reader.font(resources, name)?;
                }
            }
            b"Tc" => state.char_spacing = n(0).unwrap_or(state.char_spacing),
            b"Tw" => state.word_spacing = n(0).unwrap_or(state.word_spacing),
            b"Tz" => state.horizontal_scale = n(0).map_or(state.horizontal_scale, |s| s / 100.0),
            b"TL" => state.leading = n(0).unwrap_or(state.leading),
            b"Ts" => state.rise = n(0).unwrap_or(state.rise),
            b"Tr" => {
                state.render_mode = n(0).map_or(state.render_mode, |m| m.clamp(-1.0, 8.0) as i64);
            }
            b"Td" | b"TD" => {
                if let (Some(x), Some(y)) = (n(0), n(1)) {
                    if operator == b"TD" {
                        state.leading = -y;
                    }
                    self.line_matrix.translate(x, y);
                    self.text_matrix = self.line_matrix;
                }
            }
            b"Tm" => {
                if let Some(matrix) = Matrix::from_operands(operands) {
                    self.text_matrix = matrix;
                    self.line_matrix = matrix;
                }
            }
            b"T*" => self.next_line(),
            b"Tj" => {
                if let Some(text) = operands.first().and_then(Operand::string) {
                    self.show(text)?;
                }
            }
            b"'" => {
                self.next_line();
                if let Some(text) = operands.first().and_then(Operand::string) {
                    self.show(text)?;
                }
            }
            b"\"" => {
                if let (Some(word), Some(char)) = (n(0), n(1)) {
                    state.word_spacing = word;
                    state.char_spacing = char;
                }
                self.next_line();
                if let Some(text) = operands.get(2).and_then(Operand::string) {
                    self.show(text)?;
                }
            }
            b"TJ" => {
                if let Some(Operand::Array(items)) = operands.first() {
                    for item in items {
                        match item {
                            Operand::String(text) => self.show(text)?,
                            Operand::Number(adjust) if adjust.is_finite() => {
                                let state = &self.state;
                                let shift = -adjust / 1000.0 * state.size * state.horizontal_scale;
                                self.text_matrix.translate(shift, 0.0);
                            }
                            _ => {}
                        }
                    }
                }
            }
            b"g" | b"G" | b"rg" | b"RG" | b"k" | b"K" => {
                let (space, count) = match operator {
                    b"g" | b"G" => (ColourSpace::Gray, 1),
                    b"rg" | b"RG" => (ColourSpace::Rgb, 3),
                    _ => (ColourSpace::Cmyk, 4),
                };
                let values: Vec<f64> = (0..count).filter_map(n).collect();
                let paint = space.paint(&values);
                if operator.first().is_some_and(u8::is_ascii_lowercase) {
                    state.fill_space = Rc::new(space);
                    state.fill = paint;
                } else {
                    state.stroke_space = Rc::new(space);
                    state.stroke = paint;
                }
            }
            b"cs" | b"CS" => {
                let space = operands
                    .first()
                    .and_then(Operand::name)
                    .map(|name| self.reader.colour_space(resources, name))
                    .unwrap_or(ColourSpace::Unknown);
                let paint = space.paint(&space.initial());
                let state = &mut self.state;
                if operator == b"cs" {
                    state.fill_space = Rc::new(space);
                    state.fill = paint;
                } else {
                    state.stroke_space = Rc::new(space);
                    state.stroke = paint;
                }
            }
            b"sc" | b"scn" | b"SC" | b"SCN" => {
                let fill = operator.first() == Some(&b's');
                let space = if fill { &state.fill_space } else { &state.stroke_space };
                let pattern = operands.last().is_some_and(|o| o.name().is_some());
                let values: Vec<f64> = operands.iter().filter_map(Operand::number).collect();
                let paint = if pattern { Paint::UNKNOWN } else { space.paint(&values) };
                if fill {
                    state.fill = paint;
                } else {
                    state.stroke = paint;
                }
            }
            b"gs" => {
                if let Some(name) = operands.first().and_then(Operand::name) {
                    self.graphics_state(resources, name)?;
                }
            }
            b"m" | b"l" => self.add_points(operands, 1),
            b"c" => self.add_points(operands, 3),
            b"v" | b"y" => self.add_points(operands, 2),
            b"re" => {
                if let (Some(x), Some(y), Some(w), Some(h)) = (n(0), n(1), n(2), n(3)) {
                    let ctm = self.state.ctm;
                    let rect = Rect::around(&[
                        ctm.point(x, y),
                        ctm.point(x + w, y),
                        ctm.point(x, y + h),
                        ctm.point(x + w, y + h),
                    ]);
                    self.extend_path(rect, true);
                }
            }
            b"W" | b"W*" => self.clip_pending = true,
            b"n" | b"S" | b"s" => self.end_path(false),
            b"f" | b"F" | b"f*" | b"B" | b"B*" | b"b" | b"b*" => self.end_path(true),
            b"Do" => {
                if let Some(name) = operands.first().and_then(Operand::name) {
                    self.draw_form(resources, name, depth)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn next_line(&mut self) {
        self.line_matrix.translate(0.0, -self.state.leading);
        self.text_matrix = self.line_matrix;
    }

    fn add_points(&mut self, operands: &[Operand<'_>], count: usize) {
        let numbers: Vec<f64> = operands.iter().filter_map(Operand::number).collect();
        let ctm = self.state.ctm;
        let points: Vec<(f64, f64)> = numbers
            .chunks_exact(2)
            .take(count)
            .map(|pair| match pair {
                [x, y] => ctm.point(*x, *y),
                _ => (0.0, 0.0),
            })
            .collect();
        if !points.is_empty() {
            self.extend_path(Rect::around(&points), false);
        }
    }

    fn extend_path(&mut self, rect: Option<Rect>, rectangle: bool) {
        let Some(rect) = rect else { return };
        if self.path.is_none() {
            self.path_rectangles = true;
        }
        self.path = Some(match self.path {
            Some(path) => path.union(&rect),
            None => rect,
        });
        self.path_rectangles &= rectangle;
    }

    /// Ends the current path: applies a pending clip, and remembers filled areas.
    fn end_path(&mut self, filled: bool) {
        if let Some(path) = self.path.take() {
            if self.clip_pending {
                // An empty intersection means a clip outside the page area: kept as is,
                // since the bounds of a curved path only approximate it.
                if let Some(clip) = self.state.clip.intersection(&path) {
                    self.state.clip = clip;
                }
            }
            let big_enough = path.x1 - path.x0 >= 2.0 && path.y1 - path.y0 >= 2.0;
            if filled && big_enough && self.out.fills.len() < MAX_FILLS {
                self.order += 1;
                let state = &self.state;
                self.out.fills.push(Fill {
                    rect: path.intersection(&state.clip).unwrap_or(path),
                    paint: state.fill,
                    order: self.order,
                    rectangles: self.path_rectangles,
                    opaque: state.fill_alpha >= 0.95 && state.normal_blend,
                });
            }
        }
        self.clip_pending = false;
        self.path_rectangles = true;
    }

    fn graphics_state(
        &mut self,
        resources: Option<&'d Dictionary>,
        name: &[u8],
    ) -> Result<(), ReadError> {
        let doc = self.reader.doc;
        let Some(dict) = resource(doc, resources, b"ExtGState", name).and_then(|g| dict_of(doc, g))
        else {
            return Ok(());
        };
        let number = |key: &[u8]| {
            dict.get(key)
                .ok()
                .and_then(|v| doc.dereference(v).ok())
                .and_then(|(_, v)| v.as_float().ok())
                .map(f64::from)
                .filter(|v| v.is_finite())
        };
        if let Some(alpha) = number(b"ca") {
            self.state.fill_alpha = alpha;
        }
        if let Some(alpha) = number(b"CA") {
            self.state.stroke_alpha = alpha;
        }
        if let Ok(blend) = dict.get(b"BM") {
            let name = match blend {
                Object::Array(names) => names.first().and_then(|n| n.as_name().ok()),
                other => other.as_name().ok(),
            };
            self.state.normal_blend = matches!(name, Some(b"Normal" | b"Compatible") | None);
        }
        if let Some(font) = dict.get(b"Font").ok().and_then(|f| doc.dereference(f).ok())
            && let Ok([font_ref, size]) = font.1.as_array().map(Vec::as_slice)
            && let Object::Reference(id) = font_ref
        {
            if let Ok(size) = size.as_float() {
                self.state.size = f64::from(size);
            }
            if let Ok(dict) = doc.get_dictionary(*id) {
                let font = self.reader.load_font(FontKey::Object(*id), dict)?;
                self.state.font = Some(font);
            }
        }
        Ok(())
    }

    /// Draws a form XObject (images and anything else are skipped).
    fn draw_form(
        &mut self,
        resources: Option<&'d Dictionary>,
        name: &[u8],
        depth: usize,
    ) -> Result<(), ReadError> {
        let doc = self.reader.doc;
        let Some(Object::Reference(id)) = resource(doc, resources, b"XObject", name) else {
            return Ok(());
        };
        let Ok(stream) = doc.get_object(*id).and_then(Object::as_stream) else { return Ok(()) };
        if stream.dict.get(b"Subtype").ok().and_then(|s| s.as_name().ok()) != Some(b"Form") {
            return Ok(());
        }
        if depth >= MAX_FORM_DEPTH
            || self.forms.contains(id)
            || self.reader.forms_drawn >= MAX_FORMS_DRAWN
        {
            return Ok(());
        }
        self.reader.forms_drawn += 1;
        let content = match self.reader.forms.get(id) {
            Some(content) => content.clone(),
            None => {
                let content = Rc::new(self.reader.decode(stream)?.unwrap_or_default());
                self.reader.forms.insert(*id, content.clone());
                content
            }
        };
        let form_resources =
            stream.dict.get(b"Resources").ok().and_then(|r| dict_of(doc, r)).or(resources);
        let saved_state = self.state.clone();
        let saved_depth = self.saved.len();
        let saved_unsaved = self.unsaved;
        let saved_text = (self.text_matrix, self.line_matrix);
        let matrix = Matrix::from_object(doc, stream.dict.get(b"Matrix").ok());
        self.state.ctm = matrix.then(&self.state.ctm);
        if let Some(bbox) = Rect::from_object(doc, stream.dict.get(b"BBox").ok())
            .and_then(|b| b.transformed(&self.state.ctm))
        {
            self.state.clip = self.state.clip.intersection(&bbox).unwrap_or(bbox);
        }
        self.path = None;
        self.forms.push(*id);
        let result = self.run(&content, form_resources, depth + 1);
        self.forms.pop();
        self.state = saved_state;
        self.saved.truncate(saved_depth);
        self.unsaved = saved_unsaved;
        (self.text_matrix, self.line_matrix) = saved_text;
        self.path = None;
        result
    }

    /// Shows a string with the current font, moving the text matrix past it.
    fn show(&mut self, bytes: &[u8]) -> Result<(), ReadError> {
        let font = self.state.font.clone().unwrap_or_else(|| self.reader.fallback.clone());
        let start = self.text_matrix;
        let state = &self.state;
        let mut text = String::new();
        let mut advance_total = 0.0;
        for code in font.codes(bytes) {
            let before = text.len();
            font.push_text(code, &mut text);
            let glyph = text.get(before..).unwrap_or_default();
            let mut advance = font.advance(code, glyph) * state.size + state.char_spacing;
            if code.len == 1 && code.code == 32 {
                advance += state.word_spacing;
            }
            advance_total += advance * state.horizontal_scale;
        }
        if advance_total.is_finite() {
            self.text_matrix.translate(advance_total, 0.0);
        }
        if text.is_empty() {
            return Ok(());
        }
        self.record(&start, &font, text)
    }

    /// Records a shown string as a run, visible or hidden.
    fn record(&mut self, start: &Matrix, font: &Font, text: String) -> Result<(), ReadError> {
        self.reader.text_bytes = self.reader.text_bytes.saturating_add(text.len());
        if self.reader.text_bytes > self.reader.max_text_bytes {
            return Err(ReadError::TooLarge);
        }
        let state = &self.state;
        let from = start.then(&state.ctm);
        let to = self.text_matrix.then(&state.ctm);
        let size = state.size * font.size_scale;
        let p0 = from.point(0.0, state.rise);
        let p1 = to.point(0.0, state.rise);
        let up = from.vector(0.0, size);
        let across = from.vector(size * state.horizontal_scale, 0.0);
        let height = up.0.hypot(up.1);
        let width = across.0.hypot(across.1);
        let axis = from.vector(1.0, 0.0);
        let direction = if axis.0.abs() >= axis.1.abs() {
            if axis.0 >= 0.0 { 0 } else { 2 }
        } else if axis.1 >= 0.0 {
            1
        } else {
            3
        };
        let at = |p: (f64, f64), k: f64| (p.0 + k * up.0, p.1 + k * up.1);
        let bounds = Rect::around(&[at(p0, -0.2), at(p1, -0.2), at(p0, 0.8), at(p1, 0.8)]);
        let core = Rect::around(&[at(p0, 0.1), at(p1, 0.1), at(p0, 0.5), at(p1, 0.5)]);

        let mode = state.render_mode;
        let fills = matches!(mode, 0 | 2 | 4 | 6);
        let strokes = matches!(mode, 1 | 2 | 5 | 6);
        let centre = ((p0.0 + p1.0) / 2.0 + 0.3 * up.0, (p0.1 + p1.1) / 2.0 + 0.3 * up.1);
        let background = self
            .out
            .fills
            .iter()
            .rev()
            .find(|fill| fill.rect.contains_point(centre))
            .map(|f| f.paint);
        let unseen = |paint: Paint, alpha: f64| {
            alpha < 0.05
                || match (background, paint.luminance) {
                    (None, _) => paint.white,
                    (Some(back), Some(luminance)) => match back.luminance {
                        Some(back) => (luminance - back).abs() < 0.1,
                        None => paint.white && back.white,
                    },
                    (Some(back), None) => paint.white && back.white,
                }
        };
        let invisible_paint = (!fills || unseen(state.fill, state.fill_alpha))
            && (!strokes || unseen(state.stroke, state.stroke_alpha));
        let tiny = height < MIN_READABLE_SIZE || width < MIN_READABLE_SIZE;
        let outside = bounds.is_none_or(|b| b.intersection(&state.clip).is_none());
        let hidden = invisible_paint || tiny || outside;

        self.order += 1;
        let finite = p0.0.is_finite() && p0.1.is_finite() && p1.0.is_finite() && p1.1.is_finite();
        let run = Run {
            start: if finite { p0 } else { (0.0, 0.0) },
            end: if finite { p1 } else { (0.0, 0.0) },
            size: if height.is_finite() { height } else { 0.0 },
            direction,
            chars: text.chars().count(),
            joins: Vec::new(),
            text,
            core: core.unwrap_or(Rect { x0: 0.0, y0: 0.0, x1: 0.0, y1: 0.0 }),
            order: self.order,
        };
        if push_run(if hidden { &mut self.out.hidden } else { &mut self.out.visible }, run) {
            self.reader.runs += 1;
            if self.reader.runs > MAX_RUNS {
                return Err(ReadError::TooLarge);
            }
        }
        Ok(())
    }
}

impl<'d> Reader<'d> {
    /// Resolves a colour space name: a device space, or an entry of `/ColorSpace`.
    fn colour_space(&mut self, resources: Option<&'d Dictionary>, name: &[u8]) -> ColourSpace {
        if let Some(space) = device_space(name) {
            return space;
        }
        let doc = self.doc;
        match resource(doc, resources, b"ColorSpace", name) {
            Some(object) => self.parse_space(object, 0),
            None => ColourSpace::Unknown,
        }
    }

    fn parse_space(&mut self, object: &Object, depth: usize) -> ColourSpace {
        let doc = self.doc;
        let Ok((_, object)) = doc.dereference(object) else { return ColourSpace::Unknown };
        if depth > 4 {
            return ColourSpace::Unknown;
        }
        match object {
            Object::Name(name) => device_space(name).unwrap_or(ColourSpace::Unknown),
            Object::Array(items) => {
                let family = items.first().and_then(|f| f.as_name().ok()).unwrap_or_default();
                match family {
                    b"CalGray" => ColourSpace::Gray,
                    b"CalRGB" => ColourSpace::Rgb,
                    b"Lab" => ColourSpace::Lab,
                    b"ICCBased" => {
                        let n = items
                            .get(1)
                            .and_then(|s| doc.dereference(s).ok())
                            .and_then(|(_, s)| s.as_stream().ok())
                            .and_then(|s| s.dict.get(b"N").ok())
                            .and_then(|n| n.as_i64().ok());
                        match n {
                            Some(1) => ColourSpace::Gray,
                            Some(3) => ColourSpace::Rgb,
                            Some(4) => ColourSpace::Cmyk,
                            _ => ColourSpace::Unknown,
                        }
                    }
                    b"Separation" => ColourSpace::Separation {
                        none: items.get(1).and_then(|n| n.as_name().ok()) == Some(b"None"),
                    },
                    b"DeviceN" => {
                        let n = items
                            .get(1)
                            .and_then(|n| doc.dereference(n).ok())
                            .and_then(|(_, n)| n.as_array().ok())
                            .map_or(1, Vec::len);
                        ColourSpace::DeviceN(n.clamp(1, 32))
                    }
                    b"Pattern" => ColourSpace::Pattern,
                    b"Indexed" | b"I" => {
                        let base = items
                            .get(1)
                            .map_or(ColourSpace::Unknown, |b| self.parse_space(b, depth + 1));
                        let table =
                            match items.get(3).and_then(|t| doc.dereference(t).ok()).map(|t| t.1) {
                                Some(Object::String(bytes, _)) => bytes.clone(),
                                Some(Object::Stream(stream)) => {
                                    self.decode(stream).ok().flatten().unwrap_or_default()
                                }
                                _ => Vec::new(),
                            };
                        ColourSpace::Indexed { base: Box::new(base), table }
                    }
                    other => device_space(other).unwrap_or(ColourSpace::Unknown),
                }
            }
            _ => ColourSpace::Unknown,
        }
    }
}

fn device_space(name: &[u8]) -> Option<ColourSpace> {
    match name {
        b"DeviceGray" | b"G" | b"CalGray" => Some(ColourSpace::Gray),
        b"DeviceRGB" | b"RGB" | b"CalRGB" => Some(ColourSpace::Rgb),
        b"DeviceCMYK" | b"CMYK" => Some(ColourSpace::Cmyk),
        b"Pattern" => Some(ColourSpace::Pattern),
        _ => None,
    }
}
