//! The demo's fictional CVs: generated, never real people, in every format Petal reads.

use petal_documents::corpus::{self, uk_cv_lines};

/// One generated CV file.
pub struct DemoCv {
    /// Its file name, as a candidate would send it.
    pub filename: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// `count` CVs, the same on every run: UK legal and technology CVs spread over PDF, DOCX, ODT,
/// RTF and plain text, and every sixth one a PDF in one of several layouts (one in three of
/// those carries a white-on-white instruction to the screening engine, which Petal flags).
pub fn generate(count: u64) -> Vec<DemoCv> {
    (1..=count).map(cv).collect()
}

fn cv(seed: u64) -> DemoCv {
    if seed.is_multiple_of(6) {
        let generated = corpus::pdf_cv(seed / 6);
        let name = generated.lines.first().map_or("Candidate", String::as_str);
        return DemoCv { filename: file_name(name, seed, "pdf"), bytes: generated.pdf };
    }
    let lines = uk_cv_lines(seed);
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let (bytes, extension) = match seed % 5 {
        0 => (corpus::pdf(&refs), "pdf"),
        1 => (corpus::docx(&refs), "docx"),
        2 => (corpus::odt(&refs), "odt"),
        3 => (corpus::rtf(&refs), "rtf"),
        _ => (format!("{}\n", lines.join("\n")).into_bytes(), "txt"),
    };
    let name = lines.first().map_or("Candidate", String::as_str);
    DemoCv { filename: file_name(name, seed, extension), bytes }
}

/// `Firstname_Lastname_CV_07.pdf`: the seed keeps two candidates with one name apart.
fn file_name(name: &str, seed: u64, extension: &str) -> String {
    format!("{}_CV_{seed:02}.{extension}", name.replace(' ', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use petal_documents::{Limits, validate};

    #[test]
    fn every_demo_cv_is_a_file_petal_accepts_in_all_five_formats() {
        let cvs = generate(36);
        assert_eq!(cvs.len(), 36);
        let mut kinds = std::collections::BTreeSet::new();
        for cv in &cvs {
            let kind = validate(&cv.bytes, &Limits::default())
                .unwrap_or_else(|e| panic!("{} refused: {e:?}", cv.filename));
            assert!(cv.filename.ends_with(&format!(".{}", kind.as_str())), "{}", cv.filename);
            kinds.insert(kind.as_str());
        }
        assert_eq!(kinds.len(), 5, "{kinds:?}");
        let names: std::collections::BTreeSet<_> = cvs.iter().map(|c| &c.filename).collect();
        assert_eq!(names.len(), cvs.len(), "file names are unique");
    }

    #[test]
    fn the_demo_cvs_are_the_same_on_every_run() {
        let (a, b) = (generate(8), generate(8));
        assert!(a.iter().zip(&b).all(|(x, y)| x.filename == y.filename && x.bytes == y.bytes));
    }
}
