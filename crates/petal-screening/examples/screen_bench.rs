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

use petal_documents::corpus;
use petal_screening::criteria::Criterion;
use petal_screening::engine::{self, CvInput, Screening, rank_order, screen};
use petal_screening::profile::{
    Month, contacts, degree_mentions, qualification_mentions, skill_mentions, stints,
};
use petal_screening::{CriterionKind, Verdict, Weight};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift64*), so the corpus is the same on every run.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[usize::try_from(self.below(items.len() as u64)).unwrap()]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const FIRST: &[&str] = &[
    "Amelia", "Oliver", "Priya", "Kwame", "Siobhan", "Tomasz", "Hannah", "Rhys", "Aisha", "Callum",
    "Mei", "Eleanor", "Dev", "Niamh", "Jonah", "Fatima",
];
const LAST: &[&str] = &[
    "Whitfield",
    "Okonkwo",
    "Chaudhry",
    "MacLeod",
    "Nowak",
    "Pemberton",
    "Adeyemi",
    "Lloyd",
    "Fairbairn",
    "Hughes",
    "Rahman",
    "Kowalczyk",
    "Ashworth",
    "Ferreira",
];
const UNIVERSITIES: &[&str] = &[
    "University of Leeds",
    "University of Bristol",
    "King's College London",
    "University of Manchester",
    "Durham University",
    "University of Glasgow",
    "Cardiff University",
    "University of Nottingham",
];
const CLASSES: &[&str] = &[
    "First Class Honours",
    "2:1",
    "Upper Second Class Honours (II.i)",
    "2.1",
    "2:2",
    "Lower Second Class Honours",
    "Third Class Honours",
    "predicted 2:1",
    "1st",
];
const LAW_ROLES: &[&str] =
    &["Trainee Solicitor", "Associate", "Senior Associate", "Paralegal", "Solicitor"];
const TECH_ROLES: &[&str] =
    &["Software Engineer", "Senior Backend Engineer", "Platform Engineer", "Legal Technologist"];
const FIRMS: &[&str] = &[
    "Harbour & Vale LLP",
    "Northgate Solicitors",
    "Quayside Legal LLP",
    "Ashby Marsh LLP",
    "Pennine Chambers Services",
    "Ludgate Hill Partners LLP",
];
const COMPANIES: &[&str] =
    &["Lexbridge Software", "Corvid Systems", "Tideway Analytics", "Kestrel Payments Ltd"];
const LAW_BULLETS: &[&str] = &[
    "Ran commercial litigation matters from pre-action correspondence to trial",
    "Drafted witness statements and disclosure lists in High Court disputes",
    "Advised clients on contract law and termination rights",
    "Managed a caseload of 40 employment tribunal claims",
    "Negotiated settlements in construction and insurance disputes",
    "Supervised two paralegals and reviewed their first drafts",
    "Prepared trial bundles and briefed counsel on costs budgets",
    "Handled arbitration under LCIA rules for overseas clients",
    "Reviewed supplier terms for data protection compliance",
];
const TECH_BULLETS: &[&str] = &[
    "Built Rust services in production handling 2m requests a day",
    "Ran Kubernetes clusters on AWS with Terraform and Helm",
    "Designed PostgreSQL schemas for a document management system",
    "Introduced Kafka pipelines for case events",
    "Wrote Python tooling for contract review and clause extraction",
    "Led the migration of a monolith to Go microservices",
    "Reduced cloud costs by a third after a capacity review",
    "Mentored four junior engineers and ran code reviews",
];
const SKILLS: &[&str] = &[
    "Rust",
    "Kubernetes",
    "PostgreSQL",
    "Python",
    "Terraform",
    "Kafka",
    "Contract law",
    "Negotiation",
    "Mediation",
    "Legal research",
    "Litigation",
    "Excel",
];
const LANGUAGES: &[&str] = &[
    "French (fluent)",
    "Fluent French",
    "French (basic)",
    "Spanish (conversational)",
    "German (fluent)",
    "Polish (native)",
    "Welsh (fluent)",
];
const MONTHS: &[&str] =
    &["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// The visible lines of a generated UK legal or technology CV.
fn uk_cv_lines(seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let first = rng.pick(FIRST);
    let last = rng.pick(LAST);
    let tech = rng.chance(35);
    let mut lines = vec![
        format!("{first} {last}"),
        format!(
            "{}.{}@example.test | 07700 900{:03} | linkedin.com/in/{}{}",
            first.to_lowercase(),
            last.to_lowercase(),
            rng.below(1000),
            first.to_lowercase(),
            rng.below(100)
        ),
        if tech { "Software engineer with a legal background" } else { "Solicitor, disputes" }
            .to_owned(),
        String::new(),
        "Education".to_owned(),
        format!(
            "{}, {}, {} ({})",
            rng.pick(&["LLB (Hons) Law", "BA History", "BSc Computer Science", "LLB Law"]),
            rng.pick(UNIVERSITIES),
            2008 + rng.below(12),
            rng.pick(CLASSES)
        ),
    ];
    if rng.chance(30) {
        lines.push(format!(
            "MSc Computer Science, {}, Merit, {}",
            rng.pick(UNIVERSITIES),
            2012 + rng.below(10)
        ));
    }
    lines.push(format!("A-levels: {}", rng.pick(&["A*AA", "AAB", "ABB", "A*A*A", "BBC"])));
    match rng.below(5) {
        0 => lines.push(format!(
            "SQE1 passed {}; SQE2 passed {}",
            2021 + rng.below(2),
            2023 + rng.below(2)
        )),
        1 => lines.push(format!("SQE1 passed {}, SQE2 booked for 2027", 2024 + rng.below(2))),
        2 => lines.push(format!(
            "Legal Practice Course (LPC), University of Law, {} (Distinction)",
            2010 + rng.below(8)
        )),
        3 => lines.push(format!("GDL, BPP University, {}", 2012 + rng.below(6))),
        _ => {}
    }
    lines.push(String::new());
    lines.push("Experience".to_owned());
    let mut year = 2012 + rng.below(10);
    let mut month = rng.below(12);
    let jobs = 2 + rng.below(4);
    for job in 0..jobs {
        let (roles, employers, bullets) = if tech && rng.chance(70) {
            (TECH_ROLES, COMPANIES, TECH_BULLETS)
        } else {
            (LAW_ROLES, FIRMS, LAW_BULLETS)
        };
        let from = format!("{} {year}", MONTHS[usize::try_from(month).unwrap()]);
        year += 1 + rng.below(3);
        month = rng.below(12);
        let to = if job + 1 == jobs && rng.chance(60) || year > 2026 {
            "present".to_owned()
        } else {
            format!("{} {year}", MONTHS[usize::try_from(month).unwrap()])
        };
        lines.push(format!("{}, {}, {from} - {to}", rng.pick(roles), rng.pick(employers)));
        for _ in 0..(3 + rng.below(4)) {
            lines.push(format!("- {}.", rng.pick(bullets)));
        }
        if year > 2026 {
            break;
        }
    }
    lines.push(String::new());
    lines.push("Skills".to_owned());
    let skills: Vec<&str> = (0..(3 + rng.below(5))).map(|_| rng.pick(SKILLS)).collect();
    lines.push(skills.join(", "));
    if rng.chance(70) {
        lines.push(format!("Languages: {}", rng.pick(LANGUAGES)));
    }
    lines.push(String::new());
    lines.push("Interests".to_owned());
    lines.push(
        rng.pick(&[
            "Fell running, choral singing and pro bono advice clinics",
            "Chess, cycling and volunteering at a law centre",
            "Open-source contributions, climbing and baking",
        ])
        .to_owned(),
    );
    lines
}

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
