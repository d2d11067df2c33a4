//! PDF text extraction benchmark: Petal's reader (`read_pdf`, in process, single thread, many
//! passes) beside `pdftotext file -` run once per file, on the same corpus in the same run.
//! The corpus is written to a temporary directory: generated CVs of one to two pages (the four
//! layouts of `corpus::pdf_cv`) and the Chromium fixtures of `tests/fixtures/`. Completeness is
//! the share of ground-truth words each reader finds; order, the files whose ground-truth lines
//! all come out in order. Prints markdown tables.
//!
//! Run through `scripts/bench-extract.sh` (release build). Optional argument: the number of
//! passes of our reader (default 200). With `BENCH_VERBOSE=1`, the files a reader leaves out of
//! order are named on standard error.

use petal_documents::Limits;
use petal_documents::corpus;
use petal_documents::read::read_pdf;
use std::collections::HashMap;
use std::error::Error;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// One file of the corpus, with what a reader should find in it.
struct Sample {
    group: &'static str,
    path: PathBuf,
    bytes: Vec<u8>,
    lines: Vec<String>,
    hidden: Option<String>,
}

const CHROMIUM: [(&str, &[u8], &str); 4] = [
    (
        "cv-one-column",
        include_bytes!("../tests/fixtures/cv-one-column.pdf"),
        include_str!("../tests/fixtures/cv-one-column.html"),
    ),
    (
        "cv-two-columns",
        include_bytes!("../tests/fixtures/cv-two-columns.pdf"),
        include_str!("../tests/fixtures/cv-two-columns.html"),
    ),
    (
        "cv-injection",
        include_bytes!("../tests/fixtures/cv-injection.pdf"),
        include_str!("../tests/fixtures/cv-injection.html"),
    ),
    (
        "cv-injection-clean",
        include_bytes!("../tests/fixtures/cv-injection-clean.pdf"),
        include_str!("../tests/fixtures/cv-injection.html"),
    ),
];

/// The text lines of a fixture's HTML (its `h1`, `h2` and `p` elements, one per source line),
/// and its injected line (`class="injection"`), which the clean variant leaves out.
fn html_truth(html: &str, clean: bool) -> (Vec<String>, Option<String>) {
    let mut lines = Vec::new();
    let mut hidden = None;
    let body = html.split("<body>").nth(1).unwrap_or_default();
    for source in body.lines() {
        let source = source.trim();
        if !["<h1", "<h2", "<p"].iter().any(|tag| source.starts_with(tag)) {
            continue;
        }
        let mut text = String::new();
        let mut in_tag = false;
        for c in source.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        let text = text.replace("&amp;", "&").trim().to_owned();
        if source.contains("class=\"injection\"") {
            if !clean {
                hidden = Some(text);
            }
        } else {
            lines.push(text);
        }
    }
    (lines, hidden)
}

fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

/// How many of the ground-truth words the output holds (as a multiset).
fn words_found(lines: &[String], output: &str) -> (usize, usize) {
    let mut available: HashMap<&str, usize> = HashMap::new();
    for word in words(output) {
        *available.entry(word).or_default() += 1;
    }
    let mut found = 0;
    let mut total = 0;
    for line in lines {
        for word in words(line) {
            total += 1;
            if let Some(count) = available.get_mut(word)
                && *count > 0
            {
                *count -= 1;
                found += 1;
            }
        }
    }
    (found, total)
}

/// Whether every ground-truth line appears, word for word, after the previous one.
fn in_order(lines: &[String], output: &str) -> bool {
    let out = words(output);
    let mut from = 0;
    for line in lines {
        let want = words(line);
        if want.is_empty() {
            continue;
        }
        let rest = out.get(from..).unwrap_or_default();
        match rest.windows(want.len()).position(|window| window == want.as_slice()) {
            Some(at) => from += at + want.len(),
            None => return false,
        }
    }
    true
}

#[derive(Default)]
struct Score {
    seconds: f64,
    files: usize,
    found: usize,
    total: usize,
    ordered: usize,
    with_hidden: usize,
    leaked: usize,
}

impl Score {
    fn add(&mut self, sample: &Sample, visible: &str) {
        let (found, total) = words_found(&sample.lines, visible);
        self.found += found;
        self.total += total;
        self.ordered += usize::from(in_order(&sample.lines, visible));
        if let Some(hidden) = &sample.hidden {
            self.with_hidden += 1;
            self.leaked += usize::from(visible.contains(hidden.as_str()));
        }
        self.files += 1;
    }
}

/// Names a file read out of order, when asked to.
fn report_order(reader: &str, sample: &Sample, text: &str) {
    if std::env::var_os("BENCH_VERBOSE").is_some() && !in_order(&sample.lines, text) {
        eprintln!("{reader}: {} out of order", sample.path.display());
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let passes: u32 = std::env::args().nth(1).map_or(Ok(200), |p| p.parse())?;
    let dir = std::env::temp_dir().join(format!("petal-extract-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    let mut samples = Vec::new();
    for seed in 0..24 {
        let cv = corpus::pdf_cv(seed);
        samples.push(Sample {
            group: "generated",
            path: dir.join(format!("generated-{seed:02}.pdf")),
            bytes: cv.pdf,
            lines: cv.lines,
            hidden: cv.hidden,
        });
    }
    for (name, bytes, html) in CHROMIUM {
        let (lines, hidden) = html_truth(html, name.ends_with("-clean"));
        samples.push(Sample {
            group: "chromium",
            path: dir.join(format!("{name}.pdf")),
            bytes: bytes.to_vec(),
            lines,
            hidden,
        });
    }
    for sample in &samples {
        std::fs::write(&sample.path, &sample.bytes)?;
    }
    let pages: usize = samples
        .iter()
        .map(|s| lopdf::Document::load_mem(&s.bytes).map_or(0, |d| d.get_pages().len()))
        .sum();

    // Ours: single thread, in process, `passes` passes over the corpus.
    let limits = Limits::default();
    let mut ours: HashMap<&str, Score> = HashMap::new();
    let mut texts = Vec::new();
    for sample in &samples {
        let deadline = Instant::now() + Duration::from_secs(30);
        let reading = read_pdf(&sample.bytes, &limits, deadline)?;
        texts.push(reading.visible);
    }
    for (sample, text) in samples.iter().zip(&texts) {
        report_order("petal", sample, text);
        ours.entry(sample.group).or_default().add(sample, text);
    }
    for sample in &samples {
        let started = Instant::now();
        for _ in 0..passes {
            let deadline = Instant::now() + Duration::from_secs(30);
            std::hint::black_box(read_pdf(std::hint::black_box(&sample.bytes), &limits, deadline)?);
        }
        let per_pass = started.elapsed().as_secs_f64() / f64::from(passes);
        ours.entry(sample.group).or_default().seconds += per_pass;
    }

    // pdftotext: one process per file, as a server would run it.
    let mut theirs: HashMap<&str, Score> = HashMap::new();
    for sample in &samples {
        let started = Instant::now();
        let output = Command::new("pdftotext").arg(&sample.path).arg("-").output()?;
        let seconds = started.elapsed().as_secs_f64();
        if !output.status.success() {
            return Err(format!("pdftotext failed on {}", sample.path.display()).into());
        }
        let text = String::from_utf8_lossy(&output.stdout);
        report_order("pdftotext", sample, &text);
        let score = theirs.entry(sample.group).or_default();
        score.seconds += seconds;
        score.add(sample, &text);
    }
    if std::env::var_os("BENCH_KEEP").is_none() {
        std::fs::remove_dir_all(&dir)?;
    }

    println!(
        "Corpus: {} PDFs ({} pages): {} generated by `corpus::pdf_cv`, {} printed by Chromium. \
         Ours: {passes} passes, single thread, in process; pdftotext: one process per file.\n",
        samples.len(),
        pages,
        samples.iter().filter(|s| s.group == "generated").count(),
        samples.iter().filter(|s| s.group == "chromium").count(),
    );
    println!(
        "| reader | group | CVs/s | ms per CV | words found | files in reading order | \
         white text in visible output |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut totals = Vec::new();
    for (reader, scores) in [("Petal `read_pdf`", &ours), ("`pdftotext file -`", &theirs)] {
        let mut all = Score::default();
        for group in ["generated", "chromium"] {
            let Some(score) = scores.get(group) else { continue };
            row(reader, group, score);
            all.seconds += score.seconds;
            all.files += score.files;
            all.found += score.found;
            all.total += score.total;
            all.ordered += score.ordered;
            all.with_hidden += score.with_hidden;
            all.leaked += score.leaked;
        }
        row(reader, "**all**", &all);
        totals.push(all);
    }
    if let [ours, theirs] = totals.as_slice() {
        println!(
            "\nThroughput ratio (all files): {:.1}× pdftotext.",
            theirs.seconds / ours.seconds.max(f64::MIN_POSITIVE)
        );
    }
    Ok(())
}

fn row(reader: &str, group: &str, score: &Score) {
    let files = score.files.max(1) as f64;
    println!(
        "| {reader} | {group} | {:.0} | {:.2} | {} of {} ({:.1} %) | {} of {} | {} of {} |",
        files / score.seconds.max(f64::MIN_POSITIVE),
        score.seconds * 1000.0 / files,
        score.found,
        score.total,
        100.0 * score.found as f64 / score.total.max(1) as f64,
        score.ordered,
        score.files,
        score.leaked,
        score.with_hidden,
    );
}
