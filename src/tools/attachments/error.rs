//! Why an attachment cannot be read or written as asked. A leaf: `crate::error`
//! words these facts for the model and must be able to import them.

/// Why an attachment cannot be read or written as asked: facts; `crate::error`
/// words them for the model.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AttachmentError {
    /// No file of `key` has this id or name.
    #[error("{key} has no attachment {wanted:?}")]
    NoSuchFile {
        key: String,
        wanted: String,
        /// The files it has: (id, name).
        available: Vec<(String, String)>,
    },
    /// Several files of `key` have this name.
    #[error("{key} has {} attachments named {name:?}", ids.len())]
    Ambiguous { key: String, name: String, ids: Vec<String> },
    /// The file is larger than this tool reads.
    #[error("{name} is {size:?} bytes, more than {cap} bytes")]
    TooLarge {
        name: String,
        /// Its size, when known (listed or declared); a stream cut at the cap has none.
        size: Option<u64>,
        cap: u64,
    },
    /// `content_base64` is not base64.
    #[error("content_base64 is not valid base64: {detail}")]
    BadBase64 { detail: String },
    /// The decoded upload is larger than `UPLOAD_MIB`.
    #[error("the file is {size} bytes, more than {cap} bytes")]
    UploadTooLarge { size: u64, cap: u64 },
    /// The file name is empty once made safe.
    #[error("file_name {name:?} has no usable characters")]
    BadName { name: String },
    /// `media_type` is not a `type/subtype` media type.
    #[error("media_type {value:?} is not a media type like text/csv")]
    BadMediaType { value: String },
    /// run_python was asked for more files, or bytes, than one run takes.
    #[error("{files} files, {bytes} bytes asked; the limit is {max_files} files, {max_bytes} bytes")]
    TooMuchForRun { files: usize, bytes: u64, max_files: usize, max_bytes: u64 },
}
