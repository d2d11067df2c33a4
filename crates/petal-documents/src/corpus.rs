//! Generated documents with known contents, for tests and benchmarks: well-formed CVs in every
//! accepted format and the hostile files each check must refuse. Built with real writers
//! (lopdf for PDF, the zip crate for DOCX and ODT), never copied bytes.
//!
//! Compiled only for tests and under the `corpus` feature; never part of the server.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use lopdf::content::{Content, Operation};
use lopdf::{
    Document, EncryptionState, EncryptionVersion, Object, Permissions, Stream, dictionary,
};
use std::io::Write;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

fn pdf_document(lines: &[&str]) -> Document {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut operations = vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 11.into()]),
        Operation::new("TL", vec![14.into()]),
        Operation::new("Td", vec![72.into(), 770.into()]),
    ];
    for line in lines {
        operations.push(Operation::new("Tj", vec![Object::string_literal(*line)]));
        operations.push(Operation::new("T*", vec![]));
    }
    operations.push(Operation::new("ET", vec![]));
    let content = Content { operations }.encode().unwrap();
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    doc.trailer.set(
        "ID",
        Object::Array(vec![
            Object::string_literal(b"petal-corpus-id1".to_vec()),
            Object::string_literal(b"petal-corpus-id2".to_vec()),
        ]),
    );
    doc
}

fn save(mut doc: Document) -> Vec<u8> {
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// A one-page PDF with `lines` of text.
pub fn pdf(lines: &[&str]) -> Vec<u8> {
    save(pdf_document(lines))
}

/// A PDF encrypted with RC4-128; an empty `user_password` makes it owner-password-only.
pub fn encrypted_pdf(lines: &[&str], user_password: &str) -> Vec<u8> {
    let mut doc = pdf_document(lines);
    let state = EncryptionState::try_from(EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner-secret",
        user_password,
        key_length: 128,
        permissions: Permissions::empty(),
    })
    .unwrap();
    doc.encrypt(&state).unwrap();
    save(doc)
}

fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        let method = if *name == "mimetype" {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        writer.start_file(*name, SimpleFileOptions::default().compression_method(method)).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn docx_xml(paragraphs: &[&str]) -> String {
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>", escape(p)))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
    )
}

/// A DOCX with one paragraph per item.
pub fn docx(paragraphs: &[&str]) -> Vec<u8> {
    let xml = docx_xml(paragraphs);
    zip(&[("[Content_Types].xml", CONTENT_TYPES.as_bytes()), ("word/document.xml", xml.as_bytes())])
}

/// A DOCX with one paragraph of runs, each `(text, run properties XML)`.
pub fn docx_with_runs(runs: &[(&str, &str)]) -> Vec<u8> {
    let body: String = runs
        .iter()
        .map(|(text, props)| {
            format!(
                "<w:r><w:rPr>{props}</w:rPr><w:t xml:space=\"preserve\">{}</w:t></w:r>",
                escape(text)
            )
        })
        .collect();
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p>{body}</w:p></w:body></w:document>"
    );
    zip(&[("[Content_Types].xml", CONTENT_TYPES.as_bytes()), ("word/document.xml", xml.as_bytes())])
}

/// An ODT with one paragraph per item.
pub fn odt(paragraphs: &[&str]) -> Vec<u8> {
    let body: String =
        paragraphs.iter().map(|p| format!("<text:p>{}</text:p>", escape(p))).collect();
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\"><office:body><office:text>{body}</office:text></office:body></office:document-content>"
    );
    zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", xml.as_bytes()),
    ])
}

/// An ODT whose one paragraph holds spans, each `(text, automatic text style properties)`;
/// an empty property string means no style.
pub fn odt_with_spans(spans: &[(&str, &str)]) -> Vec<u8> {
    let mut styles = String::new();
    let mut body = String::new();
    for (i, (text, props)) in spans.iter().enumerate() {
        if props.is_empty() {
            body.push_str(&format!("<text:span>{}</text:span>", escape(text)));
        } else {
            styles.push_str(&format!(
                "<style:style style:name=\"T{i}\" style:family=\"text\"><style:text-properties {props}/></style:style>"
            ));
            body.push_str(&format!(
                "<text:span text:style-name=\"T{i}\">{}</text:span>",
                escape(text)
            ));
        }
    }
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" xmlns:style=\"urn:oasis:names:tc:opendocument:xmlns:style:1.0\" xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" xmlns:fo=\"urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0\"><office:automatic-styles>{styles}</office:automatic-styles><office:body><office:text><text:p>{body}</text:p></office:text></office:body></office:document-content>"
    );
    zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", xml.as_bytes()),
    ])
}

/// An RTF document with one paragraph per item.
pub fn rtf(paragraphs: &[&str]) -> Vec<u8> {
    let body: String = paragraphs.iter().map(|p| format!("{p}\\par\n")).collect();
    format!("{{\\rtf1\\ansi\\deff0 {{\\fonttbl {{\\f0 Times;}}}}\n{body}}}").into_bytes()
}

/// A DOCX whose document part inflates to `expanded_bytes` of spaces (a decompression bomb
/// when that passes the limit).
pub fn zip_bomb(expanded_bytes: usize) -> Vec<u8> {
    let filler = vec![b' '; expanded_bytes];
    zip(&[("[Content_Types].xml", CONTENT_TYPES.as_bytes()), ("word/document.xml", &filler)])
}

/// A DOCX whose document part declares nested entities ("billion laughs").
pub fn xml_entity_bomb() -> Vec<u8> {
    let mut entities = String::from("<!ENTITY l0 \"lol\">");
    for i in 1..10 {
        let refs = format!("&l{};", i - 1).repeat(10);
        entities.push_str(&format!("<!ENTITY l{i} \"{refs}\">"));
    }
    let xml = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE w:document [{entities}]><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p><w:r><w:t>&l9;</w:t></w:r></w:p></w:body></w:document>"
    );
    zip(&[("[Content_Types].xml", CONTENT_TYPES.as_bytes()), ("word/document.xml", xml.as_bytes())])
}

/// A macro-enabled word document (a DOCX carrying `vbaProject.bin`).
pub fn docx_with_macros() -> Vec<u8> {
    let xml = docx_xml(&["Open me"]);
    zip(&[
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("word/document.xml", xml.as_bytes()),
        ("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 not really OLE"),
    ])
}

/// A zip of something else than a document.
pub fn plain_zip() -> Vec<u8> {
    zip(&[("notes.txt", b"hello")])
}

/// A minimal ELF header: an executable, whatever it is named.
pub fn elf_executable() -> Vec<u8> {
    let mut bytes = b"\x7fELF\x02\x01\x01\x00".to_vec();
    bytes.resize(128, 0);
    bytes
}

/// A PDF header over garbage.
pub fn malformed_pdf() -> Vec<u8> {
    b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\ngarbage without xref\n".to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DocumentKind, Limits, Rejection, validate};

    fn check(bytes: &[u8]) -> Result<DocumentKind, Rejection> {
        validate(bytes, &Limits::default())
    }

    #[test]
    fn every_accepted_format_is_recognised_by_content() {
        let lines = ["Jane Doe", "jane@example.test", "LLB (Hons) 2:1"];
        assert_eq!(check(&pdf(&lines)), Ok(DocumentKind::Pdf));
        assert_eq!(check(&docx(&lines)), Ok(DocumentKind::Docx));
        assert_eq!(check(&odt(&lines)), Ok(DocumentKind::Odt));
        assert_eq!(check(&rtf(&lines)), Ok(DocumentKind::Rtf));
    }

    #[test]
    fn an_owner_password_only_pdf_is_accepted_and_a_user_password_one_is_not() {
        assert_eq!(check(&encrypted_pdf(&["Jane Doe"], "")), Ok(DocumentKind::Pdf));
        assert_eq!(check(&encrypted_pdf(&["Jane Doe"], "open-sesame")), Err(Rejection::Encrypted));
    }

    #[test]
    fn hostile_files_are_refused_with_their_codes() {
        let limits = Limits { max_expanded_bytes: 8 * 1024 * 1024, ..Limits::default() };
        assert_eq!(
            validate(&zip_bomb(9 * 1024 * 1024), &limits),
            Err(Rejection::DecompressionBomb)
        );
        assert_eq!(check(&xml_entity_bomb()), Err(Rejection::XmlEntities));
        assert_eq!(check(&docx_with_macros()), Err(Rejection::ActiveContent));
        assert_eq!(check(&plain_zip()), Err(Rejection::UnsupportedType));
        assert_eq!(check(&elf_executable()), Err(Rejection::Executable));
        assert_eq!(check(&malformed_pdf()), Err(Rejection::Malformed));
        let mut truncated = docx(&["Jane"]);
        truncated.truncate(truncated.len() / 2);
        assert_eq!(check(&truncated), Err(Rejection::Malformed));
    }

    #[test]
    fn a_bomb_that_lies_about_its_size_is_stopped_while_inflating() {
        // Patch the declared size of the document part down to 1 KiB: the declared-size
        // check passes, so the inflating read (capped, and checked against the CRC) refuses it.
        let limits = Limits { max_expanded_bytes: 4 * 1024 * 1024, ..Limits::default() };
        let mut bomb = zip_bomb(5 * 1024 * 1024);
        let declared = u32::try_from(5 * 1024 * 1024).unwrap().to_le_bytes();
        let mut patched = 0;
        for i in 0..bomb.len() - 4 {
            if bomb[i..i + 4] == declared {
                bomb[i..i + 4].copy_from_slice(&1024u32.to_le_bytes());
                patched += 1;
            }
        }
        assert!(patched >= 1, "declared size not found");
        assert!(matches!(
            validate(&bomb, &limits),
            Err(Rejection::DecompressionBomb | Rejection::Malformed)
        ));
    }
}
