//! Evidence: what was observed, by which job, when. Findings and checklist answers point here.

use crate::{EvidenceId, JobId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub id: EvidenceId,
    /// What sort of observation: `ledger-import`, `scan`, `log-event`, `backup-run`, `document`, …
    pub kind: String,
    /// One line a person can read.
    pub summary: String,
    /// The observation itself (structured).
    pub data: serde_json::Value,
    /// Where it came from, e.g. the scan or file name.
    pub source: Option<String>,
    /// The job that observed it, if a job did.
    pub job_id: Option<JobId>,
    /// BLAKE3 of an attached file's bytes, hex.
    pub content_hash: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub observed_at: OffsetDateTime,
}

impl Evidence {
    pub fn new(kind: &str, summary: &str, data: serde_json::Value) -> Self {
        Self {
            id: EvidenceId::new(),
            kind: kind.to_owned(),
            summary: summary.to_owned(),
            data,
            source: None,
            job_id: None,
            content_hash: None,
            observed_at: crate::time_fmt::now(),
        }
    }
}

/// Why an uploaded file is not kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadRefused {
    #[error("the file is empty")]
    Empty,
    #[error("files of type {0:?} are not accepted")]
    TypeNotAllowed(String),
    #[error("the content is not what the name .{0} says")]
    ContentMismatch(String),
}

impl UploadRefused {
    pub fn code(&self) -> &'static str {
        match self {
            UploadRefused::Empty => "upload-empty",
            UploadRefused::TypeNotAllowed(_) => "upload-type-not-allowed",
            UploadRefused::ContentMismatch(_) => "upload-content-mismatch",
        }
    }
}

/// The documents mamori keeps as evidence (MDS/SDS, BCP, 規程, screenshots, exports): an
/// allow-list by extension, and the first bytes must agree with the extension, so an
/// executable or an HTML page renamed `.pdf` is refused. Returns the media type to store.
pub fn classify_upload(name: &str, bytes: &[u8]) -> Result<&'static str, UploadRefused> {
    if bytes.is_empty() {
        return Err(UploadRefused::Empty);
    }
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    const ZIP: &[u8] = b"PK\x03\x04";
    const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    let (media, ok) = match ext.as_str() {
        "pdf" => ("application/pdf", bytes.starts_with(b"%PDF-")),
        "png" => ("image/png", bytes.starts_with(b"\x89PNG\r\n\x1a\n")),
        "jpg" | "jpeg" => ("image/jpeg", bytes.starts_with(&[0xFF, 0xD8, 0xFF])),
        "xlsx" => ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", bytes.starts_with(ZIP)),
        "docx" => ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", bytes.starts_with(ZIP)),
        "pptx" => ("application/vnd.openxmlformats-officedocument.presentationml.presentation", bytes.starts_with(ZIP)),
        "xls" => ("application/vnd.ms-excel", bytes.starts_with(OLE)),
        "doc" => ("application/msword", bytes.starts_with(OLE)),
        "zip" => ("application/zip", bytes.starts_with(ZIP)),
        // Plain text and CSV: no NUL bytes (binaries have them), no markup that a browser
        // could take for a page.
        "txt" | "csv" => {
            let head = &bytes[..bytes.len().min(4096)];
            let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
            let ok = !head.contains(&0) && !lower.contains("<script") && !lower.contains("<html");
            (if ext == "csv" { "text/csv" } else { "text/plain" }, ok)
        }
        other => return Err(UploadRefused::TypeNotAllowed(other.to_owned())),
    };
    if ok { Ok(media) } else { Err(UploadRefused::ContentMismatch(ext)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_accepted_by_name_and_content() {
        assert_eq!(classify_upload("MDS.PDF", b"%PDF-1.7 ..."), Ok("application/pdf"));
        assert_eq!(
            classify_upload("bcp.xlsx", b"PK\x03\x04rest").unwrap(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert_eq!(classify_upload("memo.txt", "連絡体制図".as_bytes()), Ok("text/plain"));
    }

    #[test]
    fn dangerous_or_disguised_files_are_refused() {
        assert_eq!(classify_upload("setup.exe", b"MZ\x90\x00"), Err(UploadRefused::TypeNotAllowed("exe".into())));
        assert_eq!(classify_upload("noext", b"x").unwrap_err().code(), "upload-type-not-allowed");
        assert_eq!(classify_upload("page.html", b"<html>").unwrap_err().code(), "upload-type-not-allowed");
        assert_eq!(classify_upload("mds.pdf", b"MZ\x90\x00").unwrap_err().code(), "upload-content-mismatch");
        assert_eq!(classify_upload("a.txt", b"MZ\x00\x00").unwrap_err().code(), "upload-content-mismatch");
        assert_eq!(classify_upload("a.txt", b"<HTML><script>").unwrap_err().code(), "upload-content-mismatch");
        assert_eq!(classify_upload("a.pdf", b""), Err(UploadRefused::Empty));
    }
}
