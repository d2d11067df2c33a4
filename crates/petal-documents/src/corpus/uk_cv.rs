//! Generated UK legal and technology CVs as lines of text, for benchmarks and tests that
//! need many realistic CVs in any format.

use super::Rng;

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

/// The visible lines of a generated UK legal or technology CV (ASCII, so every format
/// carries it unchanged): name, contacts, education with a degree class in one of its
/// spellings, dated roles, qualifications, languages and skills. The same seed gives the
/// same CV.
pub fn uk_cv_lines(seed: u64) -> Vec<String> {
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
        let from = format!("{} {year}", MONTHS.get(usize::try_from(month).unwrap()).unwrap());
        year += 1 + rng.below(3);
        month = rng.below(12);
        let to = if job + 1 == jobs && rng.chance(60) || year > 2026 {
            "present".to_owned()
        } else {
            format!("{} {year}", MONTHS.get(usize::try_from(month).unwrap()).unwrap())
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
