//! The job page's pictures, drawn on the server as SVG geometry that the template writes out
//! (askama escapes every label): how the scores are spread, and how far the candidates meet
//! each criterion. No script and no inline style, so the CSP holds.

/// One bar of the score histogram: ten points of score (the last bin, 90–100, takes 100 too).
pub struct Bin {
    /// The bin's label, "0–9" … "90–100".
    pub label: String,
    /// Candidates in it.
    pub count: usize,
    /// Left edge, in the chart's units.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Bar width.
    pub width: u32,
    /// Bar height.
    pub height: u32,
    /// The label's centre.
    pub middle: u32,
}

/// Width of the histogram's drawing area.
pub const HISTOGRAM_WIDTH: u32 = 600;
/// Height of the bars' area (labels go below it).
pub const HISTOGRAM_HEIGHT: u32 = 160;
const BIN_WIDTH: u32 = HISTOGRAM_WIDTH / 10;

/// The score distribution of `scores` (0–100) in ten bins.
pub fn histogram(scores: &[u8]) -> Vec<Bin> {
    let mut counts = [0usize; 10];
    for &score in scores {
        let bin = usize::from(score.min(99) / 10);
        if let Some(count) = counts.get_mut(bin) {
            *count += 1;
        }
    }
    let tallest = counts.iter().copied().max().unwrap_or(0).max(1);
    (0u32..)
        .zip(counts)
        .map(|(bin, count)| {
            let height = scaled(count, tallest, HISTOGRAM_HEIGHT - 16);
            let upper = if bin == 9 { 100 } else { bin * 10 + 9 };
            Bin {
                label: format!("{}–{upper}", bin * 10),
                count,
                x: bin * BIN_WIDTH + 4,
                width: BIN_WIDTH - 8,
                y: HISTOGRAM_HEIGHT - height,
                height,
                middle: bin * BIN_WIDTH + BIN_WIDTH / 2,
            }
        })
        .collect()
}

/// `count` of `total` as a length out of `full`, rounded.
fn scaled(count: usize, total: usize, full: u32) -> u32 {
    let count = u64::try_from(count).unwrap_or(u64::MAX);
    let total = u64::try_from(total.max(1)).unwrap_or(u64::MAX);
    u32::try_from((count * u64::from(full) + total / 2) / total).unwrap_or(full)
}

/// The verdicts a criterion's coverage counts, in the order they are drawn.
pub const VERDICTS: [&str; 4] = ["met", "partial", "not met", "unknown"];

/// One segment of a coverage bar.
pub struct Segment {
    /// `met`, `partial`, `not-met` or `unknown` (the CSS class).
    pub class: &'static str,
    /// Candidates with this verdict.
    pub count: usize,
    /// Left edge, in percent of the bar.
    pub x: u32,
    /// Width, in percent of the bar.
    pub width: u32,
}

/// How the candidates fare on one criterion.
pub struct Coverage {
    /// The criterion.
    pub text: String,
    /// Its segments, in [`VERDICTS`] order, empty ones left out.
    pub segments: Vec<Segment>,
    /// "12 met, 3 partial, …", for reading instead of looking.
    pub summary: String,
}

/// The coverage of each criterion: `verdicts[i]` holds every candidate's verdict (by its API
/// name, underscores as spaces) on criterion `i`.
pub fn coverage(criteria: Vec<(String, Vec<String>)>) -> Vec<Coverage> {
    criteria
        .into_iter()
        .map(|(text, verdicts)| {
            let total = verdicts.len();
            // Each edge is placed from the running count, so the segments always end at 100.
            let mut before = 0;
            let mut segments = Vec::new();
            let mut summary = Vec::new();
            for verdict in VERDICTS {
                let count = verdicts.iter().filter(|v| *v == verdict).count();
                if count == 0 {
                    continue;
                }
                let x = scaled(before, total, 100);
                before += count;
                let width = scaled(before, total, 100) - x;
                segments.push(Segment { class: css_class(verdict), count, x, width });
                summary.push(format!("{count} {verdict}"));
            }
            Coverage { text, segments, summary: summary.join(", ") }
        })
        .collect()
}

fn css_class(verdict: &str) -> &'static str {
    match verdict {
        "met" => "met",
        "partial" => "partial",
        "not met" => "not-met",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_fall_in_ten_bins_with_100_in_the_last() {
        let bins = histogram(&[0, 9, 10, 55, 59, 99, 100]);
        let counts: Vec<usize> = bins.iter().map(|b| b.count).collect();
        assert_eq!(counts, [2, 1, 0, 0, 0, 2, 0, 0, 0, 2]);
        assert_eq!(bins[9].label, "90–100");
        assert_eq!(bins[0].label, "0–9");
        // The tallest bars reach the top margin; an empty bin has no height.
        assert_eq!(bins[0].height, HISTOGRAM_HEIGHT - 16);
        assert_eq!(bins[2].height, 0);
        assert_eq!(bins[1].height, (HISTOGRAM_HEIGHT - 16) / 2);
        assert!(bins.windows(2).all(|w| w[1].x > w[0].x));
    }

    #[test]
    fn no_scores_draw_no_bars() {
        assert!(histogram(&[]).iter().all(|b| b.count == 0 && b.height == 0));
    }

    #[test]
    fn coverage_counts_each_verdict_and_fills_the_bar() {
        let verdicts =
            ["met", "met", "partial", "not met", "unknown", "met"].map(str::to_owned).to_vec();
        let rows = coverage(vec![("2:1".to_owned(), verdicts), ("French".to_owned(), vec![])]);
        let first = &rows[0];
        assert_eq!(first.summary, "3 met, 1 partial, 1 not met, 1 unknown");
        let classes: Vec<&str> = first.segments.iter().map(|s| s.class).collect();
        assert_eq!(classes, ["met", "partial", "not-met", "unknown"]);
        assert_eq!(first.segments[0].width, 50);
        assert_eq!(first.segments.last().map(|s| s.x + s.width), Some(100));
        // Rounded one by one, 1, 1, 1 and 5 of 8 would fill 102%; from the running count they
        // meet end to end and fill exactly 100.
        let uneven =
            ["met", "partial", "not met", "unknown", "unknown", "unknown", "unknown", "unknown"];
        let drawn = coverage(vec![("x".to_owned(), uneven.map(str::to_owned).to_vec())]);
        let segments = &drawn[0].segments;
        assert!(segments.windows(2).all(|w| w[0].x + w[0].width == w[1].x));
        assert_eq!(segments.last().map(|s| s.x + s.width), Some(100));
        assert!(rows[1].segments.is_empty());
        assert_eq!(rows[1].summary, "");
    }
}
