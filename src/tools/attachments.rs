//! Attachment toolset: `get_attachment` (one file of an issue, in the form a
//! model can take in: an image, text, a PDF's text, or its metadata) and
//! `add_attachment` (a file from content the client holds, never a host path).
//! Also the pieces run_python shares: finding files by id or name, downloading
//! within a cap, and making file names safe.

use base64::Engine as _;
use rmcp::{
    handler::server::wrapper::Parameters,
    model::{CallToolResult, ContentBlock},
    tool, tool_router,
};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{
    JiraMcp,
    args::key_arg,
    text::{block, clip, file_size, one_line},
};
use crate::{
    budget::Cap,
    error::ToolError,
    jira::{self, models::Attachment},
    limits::{ATTACHMENT_CHARS, ATTACHMENT_READ_MIB, IMAGE_MAX_EDGE, IMAGE_MAX_PIXELS, UPLOAD_MIB},
};

mod content;
pub(crate) mod error;

use content::{Shown, image_view, pdf_text, text_of};

pub(crate) use error::AttachmentError;

const MIB: u64 = 1024 * 1024;

/// Arguments of `get_attachment`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GetAttachmentParams {
    /// Issue key, e.g. DEMO-12.
    key: String,
    /// Attachment id or file name.
    file: String,
    /// Cap on characters of a text file ([`ATTACHMENT_CHARS`]).
    #[schemars(
        range(min = ATTACHMENT_CHARS.min, max = ATTACHMENT_CHARS.max),
        description = format!("Text: characters shown (default {}).", crate::limits::tuned().attachment_chars)
    )]
    max_chars: Option<u32>,
}

/// Arguments of `add_attachment`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddAttachmentParams {
    /// Issue key, e.g. DEMO-12.
    key: String,
    /// File name, e.g. report.csv (made safe).
    file_name: String,
    /// The file's bytes in base64 (at most [`UPLOAD_MIB`] MiB decoded).
    #[schemars(description = format!("File content, base64 (max {UPLOAD_MIB} MB decoded)."))]
    content_base64: String,
    /// e.g. text/csv (default: from the extension).
    media_type: Option<String>,
}

fn get_description() -> String {
    format!(
        "Read a file attached to an issue (listed by get_issue): images (PNG, JPEG, GIF, WebP) as images,\n\
         downscaled past {IMAGE_MAX_EDGE} px or {mp:.2} MP; text, logs, CSV, JSON, code as text (capped); PDFs as\n\
         text; others as metadata. Max {ATTACHMENT_READ_MIB} MB. Not for analysing big or binary files\n\
         (use run_python's attachments).",
        mp = f64::from(IMAGE_MAX_PIXELS) / 1e6,
    )
}

fn add_description() -> String {
    format!(
        "Attach a file to an issue from base64 content you hold (max {UPLOAD_MIB} MB), never a path.\n\
         Returns the attachment id. Not for text that belongs in a comment (use add_comment)."
    )
}

#[tool_router(router = attachments_router, vis = "pub(crate)")]
impl JiraMcp {
    /// Reads one attachment; see [`get_description`] for what the model is told.
    #[tool(
        description = get_description(),
        annotations(title = "Get attachment", read_only_hint = true, open_world_hint = true)
    )]
    pub(crate) async fn get_attachment(
        &self,
        Parameters(p): Parameters<GetAttachmentParams>,
    ) -> Result<CallToolResult, ToolError> {
        let key = key_arg(&p.key)?;
        let max_chars = match p.max_chars {
            None => crate::limits::tuned().attachment_chars,
            Some(n) if ATTACHMENT_CHARS.contains(n) => n,
            Some(n) => {
                return Err(ToolError::InvalidInput(format!("max_chars must be {ATTACHMENT_CHARS}, got {n}")));
            }
        };
        let files = self.jira.attachments(&key).await?;
        let file = find_file(&key, &files, p.file.trim())?;
        let kind = Kind::of(file);
        let head = header(&key, file);
        if kind == Kind::Other {
            return Ok(text_result(format!(
                "{head}\nNot shown: only images, text and PDFs are read here. To analyse it, use run_python with \
                 attachments=[\"{key}:{}\"] (it appears under /data/attachments/).",
                one_line(&file.id)
            )));
        }
        let bytes = download(&self.jira, &key, file, ATTACHMENT_READ_MIB * MIB).await?;
        let shown = match kind {
            Kind::Image => tokio::task::spawn_blocking(move || image_view(&bytes))
                .await
                .unwrap_or_else(|e| Err(format!("the image decoder stopped: {e}"))),
            Kind::Pdf => tokio::task::spawn_blocking(move || pdf_text(&bytes))
                .await
                .unwrap_or_else(|e| Err(format!("the PDF reader stopped: {e}")))
                .map(Shown::Text),
            Kind::Text | Kind::Other => text_of(&bytes).map(Shown::Text),
        };
        Ok(match shown {
            Ok(Shown::Image { note, data, mime, original, shown }) => {
                crate::budget::note_image(shown.0, shown.1);
                let pixels = |(w, h): (u32, u32)| u64::from(w) * u64::from(h);
                crate::budget::note_cut(Cap::Image, pixels(shown), Some(pixels(original)), data.len() as u64);
                CallToolResult::success(vec![
                    ContentBlock::text(format!("{head}\n{note}")),
                    ContentBlock::image(base64::engine::general_purpose::STANDARD.encode(data), mime),
                ])
            }
            Ok(Shown::Text(text)) => {
                let total = text.chars().count();
                let shown = total.min(max_chars as usize);
                let shown_bytes = text.char_indices().nth(shown).map_or(text.len(), |(i, _)| i);
                crate::budget::note_cut(Cap::AttachmentText, shown as u64, Some(total as u64), shown_bytes as u64);
                let body = if total > max_chars as usize {
                    format!(
                        "{}\n[truncated: showing {max_chars} of {total} characters; call get_attachment with a larger \
                         max_chars (up to {}), or analyse the whole file with run_python's attachments]",
                        block(&clip(&text, max_chars as usize)),
                        ATTACHMENT_CHARS.max
                    )
                } else {
                    block(&text)
                };
                text_result(format!("{head}\n{body}"))
            }
            Err(problem) => text_result(format!(
                "{head}\nNot shown: {problem}. To analyse it, use run_python with attachments=[\"{key}:{}\"].",
                one_line(&file.id)
            )),
        })
    }

    /// Uploads one file; see [`add_description`] for what the model is told.
    #[tool(
        description = add_description(),
        annotations(
            title = "Add attachment",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    pub(crate) async fn add_attachment(
        &self,
        Parameters(p): Parameters<AddAttachmentParams>,
    ) -> Result<String, ToolError> {
        let key = key_arg(&p.key)?;
        let name = safe_file_name(&p.file_name);
        if name.is_empty() {
            return Err(AttachmentError::BadName { name: p.file_name }.into());
        }
        let (bytes, data_url_type) = decode_base64(&p.content_base64, UPLOAD_MIB * MIB)?;
        let mime = match p.media_type.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            Some(m) if is_media_type(m) => m.to_ascii_lowercase(),
            Some(m) => return Err(AttachmentError::BadMediaType { value: m.to_owned() }.into()),
            None => data_url_type.unwrap_or_else(|| media_type_for(&name).to_owned()),
        };
        let stored = self.jira.add_attachment(&key, &name, &mime, &bytes).await?;
        let id = stored.first().map_or_else(|| "?".to_owned(), |a| a.id.clone());
        let renamed =
            if name == p.file_name { String::new() } else { format!(" (stored as {name:?}: names are made safe)") };
        Ok(format!(
            "Attached {name:?} to {key} as attachment {}: {}, {}{renamed}. get_attachment reads it back.",
            one_line(&id),
            file_size(bytes.len() as u64),
            mime
        ))
    }
}

fn text_result(text: String) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(text)])
}

/// The first line of every answer: which file, its type, size, author and day.
fn header(key: &str, a: &Attachment) -> String {
    format!(
        "{key} attachment {} {} | {} | {} | {} {}",
        one_line(&a.id),
        clip(&one_line(&a.filename), 120),
        one_line(a.mime_type.as_deref().unwrap_or("?")),
        file_size(a.size),
        one_line(a.author.as_ref().map_or("unknown", |u| u.label())),
        super::text::day(a.created.as_deref()),
    )
}

/// The file of `files` whose id is `wanted`, or whose name is (exactly, then ignoring case).
pub(crate) fn find_file<'a>(key: &str, files: &'a [Attachment], wanted: &str) -> Result<&'a Attachment, ToolError> {
    if let Some(a) = files.iter().find(|a| a.id == wanted) {
        return Ok(a);
    }
    for exact in [true, false] {
        let named: Vec<&Attachment> = files
            .iter()
            .filter(|a| if exact { a.filename == wanted } else { a.filename.eq_ignore_ascii_case(wanted) })
            .collect();
        match named.as_slice() {
            [] => {}
            [one] => return Ok(one),
            many => {
                return Err(AttachmentError::Ambiguous {
                    key: key.to_owned(),
                    name: wanted.to_owned(),
                    ids: many.iter().map(|a| a.id.clone()).collect(),
                }
                .into());
            }
        }
    }
    Err(AttachmentError::NoSuchFile {
        key: key.to_owned(),
        wanted: wanted.to_owned(),
        available: files.iter().map(|a| (a.id.clone(), a.filename.clone())).collect(),
    }
    .into())
}

/// Downloads `file` of `key`, refusing before the request when Jira lists it as
/// larger than `cap`, and cutting the stream if it turns out larger anyway.
pub(crate) async fn download(jira: &jira::Jira, key: &str, file: &Attachment, cap: u64) -> Result<Vec<u8>, ToolError> {
    let too_large = |size| AttachmentError::TooLarge { name: file.filename.clone(), size, cap };
    if file.size > cap {
        return Err(too_large(Some(file.size)).into());
    }
    match jira.attachment_content(key, &file.id, cap).await {
        Ok(bytes) => Ok(bytes),
        Err(jira::Error::Oversized { declared, .. }) => Err(too_large(declared).into()),
        Err(e) => Err(e.into()),
    }
}

/// How `get_attachment` shows a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Image,
    Text,
    Pdf,
    Other,
}

/// Extensions of text-like files whose media type says nothing useful (often
/// application/octet-stream).
const TEXT_EXTENSIONS: &[&str] = &[
    "txt",
    "log",
    "md",
    "markdown",
    "csv",
    "tsv",
    "json",
    "jsonl",
    "ndjson",
    "har",
    "xml",
    "yaml",
    "yml",
    "toml",
    "ini",
    "cfg",
    "conf",
    "properties",
    "env",
    "sql",
    "sh",
    "bash",
    "zsh",
    "ps1",
    "bat",
    "py",
    "rb",
    "rs",
    "go",
    "java",
    "kt",
    "kts",
    "scala",
    "swift",
    "c",
    "h",
    "cc",
    "cpp",
    "hpp",
    "cs",
    "js",
    "mjs",
    "cjs",
    "ts",
    "tsx",
    "jsx",
    "php",
    "pl",
    "lua",
    "r",
    "html",
    "htm",
    "css",
    "scss",
    "svg",
    "diff",
    "patch",
    "gradle",
    "tf",
    "proto",
    "graphql",
    "dockerfile",
    "makefile",
    "gitignore",
    "editorconfig",
    "srt",
    "vtt",
    "ics",
    "eml",
];

impl Kind {
    fn of(a: &Attachment) -> Self {
        let mime = a.mime_type.as_deref().unwrap_or_default().to_ascii_lowercase();
        let ext = extension(&a.filename);
        if matches!(mime.as_str(), "image/png" | "image/jpeg" | "image/jpg" | "image/gif" | "image/webp")
            || matches!(ext.as_str(), "png" | "jpg" | "jpeg" | "gif" | "webp")
        {
            Self::Image
        } else if mime == "application/pdf" || ext == "pdf" {
            Self::Pdf
        } else if mime.starts_with("text/")
            || mime.ends_with("+json")
            || mime.ends_with("+xml")
            || matches!(
                mime.as_str(),
                "application/json"
                    | "application/xml"
                    | "application/x-yaml"
                    | "application/yaml"
                    | "application/javascript"
                    | "application/x-sh"
                    | "application/sql"
                    | "application/x-ndjson"
            )
            || TEXT_EXTENSIONS.contains(&ext.as_str())
        {
            Self::Text
        } else {
            Self::Other
        }
    }
}

/// The lower-case extension of a file name (`""` if none).
fn extension(name: &str) -> String {
    name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default()
}

/// Decodes `content_base64` (whitespace ignored; a `data:TYPE;base64,` prefix
/// accepted and its type returned), refusing more than `cap` decoded bytes
/// before decoding.
fn decode_base64(raw: &str, cap: u64) -> Result<(Vec<u8>, Option<String>), ToolError> {
    let (data_type, payload) = match raw.trim().strip_prefix("data:").and_then(|r| r.split_once(";base64,")) {
        Some((t, rest)) => (Some(t.to_ascii_lowercase()).filter(|t| is_media_type(t)), rest),
        None => (None, raw),
    };
    let compact: String = payload.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let estimate = compact.len() as u64 / 4 * 3;
    if estimate > cap + 3 {
        return Err(AttachmentError::UploadTooLarge { size: estimate, cap }.into());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(compact.as_bytes()))
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(compact.as_bytes()))
        .map_err(|e| AttachmentError::BadBase64 { detail: e.to_string() })?;
    if bytes.len() as u64 > cap {
        return Err(AttachmentError::UploadTooLarge { size: bytes.len() as u64, cap }.into());
    }
    Ok((bytes, data_type))
}

/// `type/subtype` (RFC 6838 restricted names, optional parameters not accepted).
fn is_media_type(value: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty() && s.len() <= 127 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    value.split_once('/').is_some_and(|(t, s)| token(t) && token(s))
}

/// The media type for a file name's extension, for uploads that name none.
fn media_type_for(name: &str) -> &'static str {
    match extension(name).as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "pdf" => "application/pdf",
        "csv" => "text/csv",
        "md" | "markdown" => "text/markdown",
        "html" | "htm" => "text/html",
        "json" | "har" => "application/json",
        "xml" => "application/xml",
        "yaml" | "yml" => "application/yaml",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        e if TEXT_EXTENSIONS.contains(&e) => "text/plain",
        _ => "application/octet-stream",
    }
}

/// Longest safe file name, in bytes.
const NAME_MAX: usize = 120;

/// A file name no filesystem or reader can misread: path separators, NUL,
/// control and invisible characters become `_`; leading dots (hidden files,
/// `..`) and trailing dots and spaces go; the result is at most [`NAME_MAX`]
/// bytes, keeping the extension. Empty when nothing usable is left.
pub(crate) fn safe_file_name(raw: &str) -> String {
    // NUL and other control characters (line breaks aside) become `_` before one_line
    // would drop them, so `a\0b` cannot turn into `ab`; line breaks become spaces.
    let visible: String =
        raw.chars().map(|c| if c.is_control() && !matches!(c, '\n' | '\r' | '\t') { '_' } else { c }).collect();
    let replaced: String = one_line(&visible)
        .chars()
        .map(|c| if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') { '_' } else { c })
        .collect();
    let trimmed = replaced.trim().trim_start_matches('.').trim_end_matches(['.', ' ']).trim();
    if trimmed.chars().all(|c| c == '_') {
        return String::new();
    }
    if trimmed.len() <= NAME_MAX {
        return trimmed.to_owned();
    }
    let ext = trimmed.rsplit_once('.').map(|(_, e)| e).filter(|e| e.len() <= 16).unwrap_or_default();
    let mut stem_len = NAME_MAX - if ext.is_empty() { 0 } else { ext.len() + 1 };
    while !trimmed.is_char_boundary(stem_len) {
        stem_len -= 1;
    }
    let stem = trimmed.get(..stem_len).unwrap_or_default();
    if ext.is_empty() { stem.to_owned() } else { format!("{stem}.{ext}") }
}

/// `name`, or `name-2`, `name-3`… (before the extension) if `taken` has it already.
pub(crate) fn unique_name(name: &str, taken: &[String]) -> String {
    if !taken.iter().any(|t| t == name) {
        return name.to_owned();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, format!(".{e}")),
        _ => (name, String::new()),
    };
    (2..)
        .map(|n| format!("{stem}-{n}{ext}"))
        .find(|candidate| !taken.iter().any(|t| t == candidate))
        .unwrap_or_else(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_become_harmless_single_names() {
        assert_eq!(safe_file_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_file_name(".."), "");
        assert_eq!(safe_file_name("..."), "");
        assert_eq!(safe_file_name("/"), "");
        assert_eq!(safe_file_name(".bashrc"), "bashrc");
        assert_eq!(safe_file_name("a\0b\nc\u{202E}d.txt"), "a_b cd.txt");
        assert_eq!(safe_file_name("C:\\Windows\\win.ini"), "C__Windows_win.ini");
        assert_eq!(safe_file_name("report final.csv"), "report final.csv");
        let long = format!("{}.png", "é".repeat(200));
        let safe = safe_file_name(&long);
        assert!(safe.len() <= NAME_MAX && safe.ends_with(".png"), "{safe}");
        for hostile in ["../../etc/passwd", "a/b", "..\\..\\x", "\u{0}", "x\u{7}y"] {
            let s = safe_file_name(hostile);
            assert!(!s.contains('/') && !s.contains('\\') && !s.contains('\0') && !s.starts_with('.'), "{s}");
            assert!(!s.chars().any(char::is_control), "{s:?}");
        }
    }

    #[test]
    fn clashing_names_get_a_number_before_the_extension() {
        let taken = vec!["a.log".to_owned(), "a-2.log".to_owned()];
        assert_eq!(unique_name("a.log", &taken), "a-3.log");
        assert_eq!(unique_name("b.log", &taken), "b.log");
        assert_eq!(unique_name("README", &["README".to_owned()]), "README-2");
    }

    #[test]
    fn base64_is_checked_and_sized_before_upload() {
        assert_eq!(decode_base64("aGk=", 10).unwrap().0, b"hi");
        assert_eq!(decode_base64("aG\nk=", 10).unwrap().0, b"hi");
        let (bytes, kind) = decode_base64("data:text/csv;base64,YSxi", 10).unwrap();
        assert_eq!((bytes.as_slice(), kind.as_deref()), (&b"a,b"[..], Some("text/csv")));
        let err = decode_base64("not base64!", 10).unwrap_err().to_string();
        assert!(err.starts_with("Invalid input: content_base64 is not valid base64"), "{err}");
        let err = decode_base64(&"QUFB".repeat(10), 10).unwrap_err().to_string();
        assert_eq!(
            err,
            "Invalid input: the file is 30 B, more than the 10 B add_attachment uploads; attach it in Jira instead"
        );
    }

    #[test]
    fn media_types_are_checked_and_guessed() {
        assert!(is_media_type("text/csv") && is_media_type("application/vnd.ms-excel"));
        assert!(!is_media_type("text") && !is_media_type("text/csv; charset=utf-8") && !is_media_type("a/b/c"));
        assert_eq!(media_type_for("data.CSV"), "text/csv");
        assert_eq!(media_type_for("x.unknown"), "application/octet-stream");
    }
}
