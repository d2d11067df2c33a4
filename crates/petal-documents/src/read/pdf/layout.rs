//! Reading order: a page's runs become lines. Runs are turned so the page's main text
//! direction reads left to right, grouped into rows by baseline, and split into segments at
//! wide gaps. Consecutive rows that share a vertical gutter with enough text on both sides are
//! columns: the left column is read to its end before the right one.

use super::walk::{Run, SPACE_GAP, along_across};

/// Runs further apart than this (in ems) on one baseline belong to different segments.
const SEGMENT_GAP: f64 = 1.0;
/// Deepest nesting of columns within columns.
const MAX_COLUMN_DEPTH: usize = 3;
/// Pages with more rows than this are read row by row (column detection is quadratic).
const MAX_ROWS_FOR_COLUMNS: usize = 1_000;
/// The smaller column must hold at least this share of the larger one's text, over the rows
/// they share, unless its lines keep baselines of their own; otherwise it is a list of dates
/// or labels beside the text.
const MIN_COLUMN_SHARE: f64 = 0.15;

/// A run placed in the page's reading frame.
#[derive(Debug)]
struct Piece {
    x0: f64,
    x1: f64,
    y: f64,
    size: f64,
    text: String,
}

/// Runs on one baseline, close enough to read as one stretch of text.
#[derive(Debug)]
struct Segment {
    x0: f64,
    x1: f64,
    text: String,
    chars: usize,
}

/// The lines of a page, in reading order (not yet cleaned).
pub(super) fn page_lines(runs: Vec<Run>) -> Vec<String> {
    if runs.is_empty() {
        return Vec::new();
    }
    // The main direction, by the amount of text in each.
    let mut weight = [0usize; 4];
    for run in &runs {
        if let Some(w) = weight.get_mut(usize::from(run.direction)) {
            *w += run.text.len();
        }
    }
    // On a tie, the lower direction (left to right first) wins.
    let direction = (0u8..4)
        .rev()
        .max_by_key(|d| weight.get(usize::from(*d)).copied().unwrap_or(0))
        .unwrap_or(0);
    let mut pieces: Vec<Piece> = runs
        .into_iter()
        .map(|run| {
            let (a0, y) = along_across(direction, run.start);
            let (a1, _) = along_across(direction, run.end);
            Piece { x0: a0.min(a1), x1: a0.max(a1), y, size: run.size.max(0.1), text: run.text }
        })
        .collect();
    pieces.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x0.total_cmp(&b.x0)));

    let mut sizes: Vec<f64> = pieces.iter().map(|p| p.size).collect();
    sizes.sort_by(f64::total_cmp);
    let median = sizes.get(sizes.len() / 2).copied().unwrap_or(10.0);
    let min_gutter = (SEGMENT_GAP * median).max(4.0);

    let rows = rows(pieces);
    let segments: Vec<Vec<Segment>> = rows.into_iter().map(segments).collect();
    let views: Vec<&[Segment]> =
        segments.iter().map(Vec::as_slice).filter(|row| !row.is_empty()).collect();
    let mut lines = Vec::new();
    if views.len() > MAX_ROWS_FOR_COLUMNS {
        lines.extend(views.iter().map(|row| join(row)));
    } else {
        order(&views, min_gutter, 0, &mut lines);
    }
    lines
}

/// The vertical extent of a piece's glyphs.
fn band(piece: &Piece) -> (f64, f64) {
    (piece.y - 0.25 * piece.size, piece.y + 0.75 * piece.size)
}

/// Groups pieces (sorted top to bottom) into rows: a piece joins the row above when their
/// glyph bands overlap by at least half the smaller one.
fn rows(pieces: Vec<Piece>) -> Vec<Vec<Piece>> {
    let mut rows: Vec<(f64, f64, Vec<Piece>)> = Vec::new();
    for piece in pieces {
        let (low, high) = band(&piece);
        if let Some((row_low, row_high, row)) = rows.last_mut() {
            let overlap = high.min(*row_high) - low.max(*row_low);
            let smaller = (high - low).min(*row_high - *row_low);
            if overlap >= 0.5 * smaller {
                if high - low > *row_high - *row_low {
                    (*row_low, *row_high) = (low, high);
                }
                row.push(piece);
                continue;
            }
        }
        rows.push((low, high, vec![piece]));
    }
    rows.into_iter().map(|(_, _, row)| row).collect()
}

/// Joins a row's pieces (left to right) into segments.
fn segments(mut row: Vec<Piece>) -> Vec<Segment> {
    row.sort_by(|a, b| a.x0.total_cmp(&b.x0));
    let mut segments: Vec<Segment> = Vec::new();
    // The last piece joined: a piece drawn again on top of it (fake bold) is skipped.
    let mut last: Option<(f64, f64, String)> = None;
    for piece in row {
        if let Some(segment) = segments.last_mut()
            && piece.x0 - segment.x1 <= SEGMENT_GAP * piece.size
        {
            if let Some((x0, size, text)) = &last
                && (piece.x0 - x0).abs() < 0.3 * size
                && *text == piece.text
            {
                continue;
            }
            let gap = piece.x0 - segment.x1;
            let spaced = segment.text.ends_with(char::is_whitespace)
                || piece.text.starts_with(char::is_whitespace);
            if gap > SPACE_GAP * piece.size && !spaced {
                segment.text.push(' ');
            }
            segment.text.push_str(&piece.text);
            segment.x1 = segment.x1.max(piece.x1);
            segment.chars += piece.text.chars().count();
            last = Some((piece.x0, piece.size, piece.text));
            continue;
        }
        let chars = piece.text.chars().count();
        segments.push(Segment { x0: piece.x0, x1: piece.x1, text: piece.text.clone(), chars });
        last = Some((piece.x0, piece.size, piece.text));
    }
    segments
}

fn join(row: &[Segment]) -> String {
    let mut line = String::new();
    for segment in row {
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&segment.text);
    }
    line
}

/// Emits rows in reading order, reading column blocks column by column.
fn order(rows: &[&[Segment]], min_gutter: f64, depth: usize, out: &mut Vec<String>) {
    let segments = rows.iter().flat_map(|row| row.iter());
    let left = segments.clone().map(|s| s.x0).fold(f64::INFINITY, f64::min);
    let right = segments.map(|s| s.x1).fold(f64::NEG_INFINITY, f64::max);
    let mut i = 0;
    while let Some(row) = rows.get(i) {
        if depth < MAX_COLUMN_DEPTH
            && let Some((end, middle)) = column_block(rows, i, (left, right), min_gutter)
        {
            let block = rows.get(i..end).unwrap_or_default();
            let mut left = Vec::new();
            let mut right = Vec::new();
            for row in block {
                let split = row.iter().position(|s| s.x0 >= middle).unwrap_or(row.len());
                let (l, r) = row.split_at(split);
                if !l.is_empty() {
                    left.push(l);
                }
                if !r.is_empty() {
                    right.push(r);
                }
            }
            order(&left, min_gutter, depth + 1, out);
            order(&right, min_gutter, depth + 1, out);
            i = end;
        } else {
            out.push(join(row));
            i += 1;
        }
    }
}

/// Removes the segments of `row` from the intervals `gaps`, keeping what is still wide enough.
fn subtract(gaps: &[(f64, f64)], row: &[Segment], min_width: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for &(lo, hi) in gaps {
        let mut pieces = vec![(lo, hi)];
        for segment in row {
            pieces = pieces
                .into_iter()
                .flat_map(|(a, b)| {
                    let mut kept = Vec::with_capacity(2);
                    if segment.x1 <= a || segment.x0 >= b {
                        kept.push((a, b));
                    } else {
                        if segment.x0 > a {
                            kept.push((a, segment.x0));
                        }
                        if segment.x1 < b {
                            kept.push((segment.x1, b));
                        }
                    }
                    kept
                })
                .collect();
        }
        out.extend(pieces.into_iter().filter(|(a, b)| b - a >= min_width));
    }
    out
}

/// Whether a column block starts at row `start`: rows from there on that all leave one gutter
/// free (within `extent`, the text's horizontal extent), with text on both sides in at least
/// two rows each; the right side not a set of values at a right tab; and the smaller side
/// holding a fair share of the text over the rows both sides span, or keeping baselines of its
/// own. Gives the block's end and the gutter's middle.
fn column_block(
    rows: &[&[Segment]],
    start: usize,
    extent: (f64, f64),
    min_gutter: f64,
) -> Option<(usize, f64)> {
    let first = rows.get(start)?;
    let mut gaps = subtract(&[extent], first, min_gutter);
    if gaps.is_empty() {
        return None;
    }
    let mut end = start + 1;
    while let Some(row) = rows.get(end) {
        let next = subtract(&gaps, row, min_gutter);
        if next.is_empty() {
            break;
        }
        gaps = next;
        end += 1;
    }
    let (lo, hi) = gaps.into_iter().max_by(|a, b| (a.1 - a.0).total_cmp(&(b.1 - b.0)))?;
    let middle = (lo + hi) / 2.0;
    let block = rows.get(start..end)?;
    let sides: Vec<(usize, usize)> = block
        .iter()
        .map(|row| {
            let left = row.iter().filter(|s| s.x1 <= middle).map(|s| s.chars).sum();
            let right = row.iter().filter(|s| s.x0 >= middle).map(|s| s.chars).sum();
            (left, right)
        })
        .collect();
    let last_left = sides.iter().rposition(|(l, _)| *l > 0)?;
    let last_right = sides.iter().rposition(|(_, r)| *r > 0)?;
    let shared = sides.get(..=last_left.min(last_right))?;
    let left_rows = shared.iter().filter(|(l, _)| *l > 0).count();
    let right_rows = shared.iter().filter(|(_, r)| *r > 0).count();
    if left_rows < 2 || right_rows < 2 {
        return None;
    }
    // Values set at a right tab (dates beside job titles) end at one x but start at several:
    // they belong to their rows, not to a column.
    let right_edges: Vec<(f64, f64)> = block
        .iter()
        .filter_map(|row| {
            let first = row.iter().find(|s| s.x0 >= middle)?;
            Some((first.x0, row.last().map_or(first.x1, |s| s.x1)))
        })
        .collect();
    let spread = |values: &mut dyn Iterator<Item = f64>| {
        let (low, high) =
            values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        high - low
    };
    let starts = spread(&mut right_edges.iter().map(|e| e.0));
    let ends = spread(&mut right_edges.iter().map(|e| e.1));
    if ends < 1.0 && starts > 2.0 {
        return None;
    }
    let left: usize = shared.iter().map(|(l, _)| l).sum();
    let right: usize = shared.iter().map(|(_, r)| r).sum();
    let (small, large) = (left.min(right) as f64, left.max(right) as f64);
    if small >= MIN_COLUMN_SHARE * large {
        return Some((end, middle));
    }
    // A side with little text is still a column (a sidebar) when its lines keep their own
    // baselines; when most share a row with the other side, they label those rows (dates in
    // the margin) and are read with them.
    let small_is_left = left <= right;
    let (mut rows, mut paired) = (0usize, 0usize);
    for (l, r) in shared {
        let (mine, other) = if small_is_left { (*l, *r) } else { (*r, *l) };
        if mine > 0 {
            rows += 1;
            paired += usize::from(other > 0);
        }
    }
    (paired * 2 < rows).then_some((end, middle))
}
