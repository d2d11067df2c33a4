//! Screening throughput benchmark: the local engine (`engine::screen`) over about 1 000 CV
//! texts, single thread, several passes, and the ranking sort (`engine::rank_order`) over
//! the results. The CVs have known content: half are the visible lines of
//! `petal_documents::corpus::pdf_cv` (the generated PDFs of the other benchmarks), half are
//! generated here as UK legal and technology CVs with degree classes, month–year date
//! ranges, SQE/LPC/GDL mentions, languages and skills. Prints markdown tables.
//!
//! Run through `scripts/bench-screening.sh` (release build). Optional arguments: the number
//! of CVs (default 1000) and of timed passes (default 5).

// A benchmark program, not part of the library: it may unwrap and panic on a broken setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use petal_documents::corpus::{self, uk_cv_lines};
use petal_screening::criteria::Criterion;
use petal_screening::engine::{self, CvInput, Screening, rank_order, remote, screen};
use petal_screening::profile::{
    Month, contacts, degree_mentions, qualification_mentions, skill_mentions, stints,
};
use petal_screening::{CriterionKind, Verdict, Weight};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn criterion(id: &str, text: &str, kind: CriterionKind, weight: i64) -> Criterion {
    Criterion {
        id: id.to_owned(),
        text: text.to_owned(),
        kind,
        weight: Weight::new(weight).unwrap(),
        requirement: None,
    }
}

/// A realistic job: a disputes solicitor who can also work on the firm's legal technology.
fn job() -> Vec<Criterion> {
    use CriterionKind::{Knockout, Must, Nice};
    vec![
        criterion("c1", "2:1 degree or above", Knockout, 5),
        criterion("c2", "3+ years' experience in litigation", Must, 4),
        criterion("c3", "SQE1 and SQE2", Must, 3),
        criterion("c4", "Fluent French", Nice, 2),
        criterion("c5", "Kubernetes", Nice, 2),
        criterion("c6", "Rust in production", Nice, 3),
        criterion("c7", "Contract law", Nice, 1),
    ]
}

/// A fact parser to time: its name, and a call returning how many facts it found.
type Parser<'a> = (&'a str, &'a dyn Fn(&str) -> usize);

fn stats(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort();
    (times[0], times[times.len() / 2])
}

fn main() {
    let mut args = std::env::args().skip(1);
    let count: u64 = args.next().map_or(1000, |a| a.parse().expect("number of CVs"));
    let passes: usize = args.next().map_or(5, |a| a.parse().expect("number of passes"));
    let today = Month::new(2026, 12).unwrap();
    let criteria = job();

    let texts: Vec<String> = (0..count)
        .map(|seed| {
            if seed % 2 == 0 {
                corpus::pdf_cv(seed).lines.join("\n")
            } else {
                uk_cv_lines(seed).join("\n")
            }
        })
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let lines: usize = texts.iter().map(|t| t.lines().count()).sum();
    println!(
        "Corpus: {count} CVs ({} from corpus::pdf_cv, {} UK legal/tech CVs generated here), \
         {:.1} KB of text each on average ({} lines), {} criteria.",
        count.div_ceil(2),
        count / 2,
        bytes as f64 / count as f64 / 1000.0,
        lines / texts.len().max(1),
        criteria.len()
    );
    println!("Criteria as the engine reads them:");
    for (c, requirement) in criteria.iter().zip(engine::interpreted(&criteria)) {
        println!("  {} {:?} w{}: {:?}", c.id, c.text, i64::from(c.weight), requirement);
    }

    let inputs: Vec<CvInput<'_>> = texts
        .iter()
        .map(|t| CvInput { visible: t, hidden: "", encrypted: false, text_layer: true })
        .collect();

    // Warm-up pass, whose results are kept for the ranking and the sanity figures.
    let screenings: Vec<Screening> = inputs.iter().map(|cv| screen(cv, &criteria, today)).collect();

    let mut screen_times = Vec::with_capacity(passes);
    for _ in 0..passes {
        let started = Instant::now();
        for cv in &inputs {
            black_box(screen(black_box(cv), &criteria, today));
        }
        screen_times.push(started.elapsed());
    }
    let (best, median) = stats(&mut screen_times);

    // What the server also does per CV: the result serialised to JSON (before sealing).
    let mut serial_times = Vec::with_capacity(passes);
    for _ in 0..passes {
        let started = Instant::now();
        for cv in &inputs {
            let screening = screen(cv, &criteria, today);
            black_box(serde_json::to_vec(&screening).unwrap());
        }
        serial_times.push(started.elapsed());
    }
    let (serial_best, serial_median) = stats(&mut serial_times);

    let sorts = 200;
    let mut sort_times = Vec::with_capacity(sorts);
    for _ in 0..sorts {
        let mut ranked: Vec<&Screening> = screenings.iter().collect();
        // Start from a different order each round, as uploads arrive in any order.
        ranked.reverse();
        let started = Instant::now();
        ranked.sort_by(|a, b| rank_order(a, b));
        sort_times.push(started.elapsed());
        black_box(&ranked);
    }
    let (sort_best, sort_median) = stats(&mut sort_times);

    let n = count as f64;
    let per_cv = |d: Duration| d.as_secs_f64() * 1e6 / n;
    let rate = |d: Duration| n / d.as_secs_f64();
    println!();
    println!("| step ({count} CVs, {passes} passes, single thread) | best | median |");
    println!("|---|---|---|");
    println!("| `engine::screen`, CVs/s | {:.0} | {:.0} |", rate(best), rate(median));
    println!("| `engine::screen`, µs per CV | {:.1} | {:.1} |", per_cv(best), per_cv(median));
    println!(
        "| `screen` + `serde_json::to_vec` of the result, µs per CV | {:.1} | {:.1} |",
        per_cv(serial_best),
        per_cv(serial_median)
    );
    println!(
        "| ranking sort of {count} screenings (`rank_order`, {sorts} rounds), µs | {:.0} | {:.0} |",
        sort_best.as_secs_f64() * 1e6,
        sort_median.as_secs_f64() * 1e6
    );

    // Petal's own work around a remote engine, beside the local engine in the same run:
    // preparing what is sent (pseudonymisation, prompt, schema), and checking an answer
    // (schema, every quote against the text, score). The answers are the local engine's
    // verdicts and quotes (whole CV lines), as a model that quotes faithfully would give:
    // the count of verdicts kept shows how many such quotes survive pseudonymisation.
    let answers: Vec<serde_json::Value> = screenings
        .iter()
        .map(|s| {
            let verdicts: Vec<serde_json::Value> = s
                .criteria
                .iter()
                .map(|c| {
                    let quotes: Vec<&str> = c.evidence.iter().map(|e| e.quote.as_str()).collect();
                    serde_json::json!({"criterion_id": c.criterion_id, "verdict": c.verdict,
                        "quotes": quotes, "reason": c.reason})
                })
                .collect();
            serde_json::json!({"verdicts": verdicts, "instructions_found": false})
        })
        .collect();
    let mut prepare_times = Vec::with_capacity(passes);
    let mut check_times = Vec::with_capacity(passes);
    let mut kept = 0;
    for _ in 0..passes {
        let started = Instant::now();
        let prepared: Vec<_> = inputs.iter().map(remote::prepare).collect();
        for p in &prepared {
            black_box(p.prompt(&criteria));
        }
        prepare_times.push(started.elapsed());
        let started = Instant::now();
        kept = 0;
        for (p, answer) in prepared.iter().zip(&answers) {
            let parsed = remote::parse_answer(answer, &criteria).unwrap();
            let checked = remote::finish(p, &criteria, &[parsed], today);
            kept += checked.evidenced();
        }
        check_times.push(started.elapsed());
    }
    let (prepare_best, prepare_median) = stats(&mut prepare_times);
    let (check_best, check_median) = stats(&mut check_times);
    let local_evidenced: usize = screenings.iter().map(Screening::evidenced).sum();
    println!();
    println!(
        "| around a remote engine ({count} CVs, {passes} passes) | best µs/CV | median µs/CV |"
    );
    println!("|---|---|---|");
    println!(
        "| local engine, `engine::screen` (reference, same run) | {:.1} | {:.1} |",
        per_cv(best),
        per_cv(median)
    );
    println!(
        "| `remote::prepare` + `prompt` (pseudonymise, request) | {:.1} | {:.1} |",
        per_cv(prepare_best),
        per_cv(prepare_median)
    );
    println!(
        "| `parse_answer` + `finish` (schema, quotes, score) | {:.1} | {:.1} |",
        per_cv(check_best),
        per_cv(check_median)
    );
    println!(
        "\nVerdicts with evidence: {local_evidenced} from the local engine; {kept} of them kept \
         after the quote check against the pseudonymised text."
    );

    // Where a screening's time goes: each fact parser alone over the same texts (the engine
    // calls some of them once for the profile and again for each criterion that needs them).
    let parsers: [Parser<'_>; 5] = [
        ("`skill_mentions`", &|t| skill_mentions(t).len()),
        ("`degree_mentions`", &|t| degree_mentions(t).len()),
        ("`qualification_mentions`", &|t| qualification_mentions(t).len()),
        ("`stints`", &|t| stints(t, today).len()),
        ("`contacts`", &|t| contacts(t).len()),
    ];
    println!();
    println!("| one call of a fact parser | µs per CV (median of {passes}) |");
    println!("|---|---|");
    for (name, parser) in parsers {
        let mut times = Vec::with_capacity(passes);
        for _ in 0..passes {
            let started = Instant::now();
            for text in &texts {
                black_box(parser(black_box(text)));
            }
            times.push(started.elapsed());
        }
        let (_, median) = stats(&mut times);
        println!("| {name} | {:.1} |", per_cv(median));
    }

    // Sanity: the verdicts the corpus produced, so a broken reader shows as all-unknown.
    println!();
    println!("| criterion | met | partial | not met | unknown |");
    println!("|---|---|---|---|---|");
    for (i, c) in criteria.iter().enumerate() {
        let count_of =
            |v: Verdict| screenings.iter().filter(|s| s.criteria[i].verdict == v).count();
        println!(
            "| {} | {} | {} | {} | {} |",
            c.text,
            count_of(Verdict::Met),
            count_of(Verdict::Partial),
            count_of(Verdict::NotMet),
            count_of(Verdict::Unknown)
        );
    }
    let mut scores: Vec<u8> = screenings.iter().map(|s| s.score).collect();
    scores.sort_unstable();
    println!(
        "\nScores: min {}, median {}, max {}; {} of {count} flagged knockout_failed.",
        scores[0],
        scores[scores.len() / 2],
        scores[scores.len() - 1],
        screenings.iter().filter(|s| s.flags.contains(&engine::Flag::KnockoutFailed)).count()
    );
}
