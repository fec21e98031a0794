//! What `get_attachment` shows of a file's bytes: an image within the caps
//! (downscaled and re-encoded when past them), text, or a PDF's text. Pure and
//! blocking: the tool runs these on the blocking pool.

use std::io::Cursor;

use image::{DynamicImage, GenericImageView as _, ImageFormat, ImageReader, Limits, codecs::jpeg::JpegEncoder};

use crate::{
    limits::{IMAGE_MAX_BYTES, IMAGE_MAX_EDGE, IMAGE_MAX_PIXELS},
    tools::text::file_size,
};

/// What `get_attachment` returns for a file it can show.
pub(super) enum Shown {
    Image { note: String, data: Vec<u8>, mime: &'static str, original: (u32, u32), shown: (u32, u32) },
    Text(String),
}

/// Text of a text file: UTF-8 (a byte-order mark dropped); a file with NUL bytes
/// or mostly undecodable bytes is not text.
pub(super) fn text_of(bytes: &[u8]) -> Result<String, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.contains(&0) {
        return Err("it contains NUL bytes, so it is not a text file".to_owned());
    }
    let text = String::from_utf8_lossy(bytes);
    let bad = text.chars().filter(|c| *c == char::REPLACEMENT_CHARACTER).count();
    if bad > 16 && bad * 100 > text.chars().count() {
        return Err("it is not UTF-8 text".to_owned());
    }
    Ok(text.into_owned())
}

/// Text of a PDF's pages, in order, or why there is none.
pub(super) fn pdf_text(bytes: &[u8]) -> Result<String, String> {
    let doc = lopdf::Document::load_mem(bytes).map_err(|e| format!("it could not be read as a PDF ({e})"))?;
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    if pages.is_empty() {
        return Err("the PDF has no pages".to_owned());
    }
    let text = doc.extract_text(&pages).map_err(|e| format!("its text could not be extracted ({e})"))?;
    if text.trim().is_empty() {
        return Err(format!("the PDF's {} page(s) hold no extractable text (a scan?)", pages.len()));
    }
    Ok(text)
}

/// Decoding limits: a small file must not expand into gigabytes of pixels.
fn decode_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    limits.max_alloc = Some(512 * 1024 * 1024);
    limits
}

/// The image as the model gets it: the original when it is within every cap,
/// otherwise decoded and downscaled to fit [`IMAGE_MAX_EDGE`] and
/// [`IMAGE_MAX_PIXELS`], as PNG, or JPEG when PNG would exceed [`IMAGE_MAX_BYTES`].
/// Animated GIFs past the cap keep their first frame.
pub(super) fn image_view(bytes: &[u8]) -> Result<Shown, String> {
    let format =
        image::guess_format(bytes).map_err(|_| "its content is not a PNG, JPEG, GIF or WebP image".to_owned())?;
    let mime = match format {
        ImageFormat::Png => "image/png",
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::Gif => "image/gif",
        ImageFormat::WebP => "image/webp",
        other => return Err(format!("{} images are not shown", other.extensions_str().first().unwrap_or(&"these"))),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decode_limits());
    let (w, h) = reader.into_dimensions().map_err(|e| format!("the image could not be read ({e})"))?;
    let (tw, th) = fit(w, h);
    if (tw, th) == (w, h) && bytes.len() <= IMAGE_MAX_BYTES {
        return Ok(Shown::Image {
            note: format!("Image {w}x{h} px, shown as is."),
            data: bytes.to_vec(),
            mime,
            original: (w, h),
            shown: (w, h),
        });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decode_limits());
    let img = reader.decode().map_err(|e| format!("the image could not be decoded ({e})"))?;
    let small =
        if (tw, th) == (w, h) { img } else { img.resize_exact(tw, th, image::imageops::FilterType::CatmullRom) };
    let (data, out_mime) = encode(&small, format)?;
    let first = if format == ImageFormat::Gif { " (first frame)" } else { "" };
    let cap = format!(
        "{IMAGE_MAX_EDGE} px long side, {:.2} MP, {}",
        f64::from(IMAGE_MAX_PIXELS) / 1e6,
        file_size(IMAGE_MAX_BYTES as u64)
    );
    Ok(Shown::Image {
        note: format!(
            "Image {w}x{h} px ({}), shown downscaled to {tw}x{th} px{first} as {} ({}) to fit the cap ({cap}).",
            file_size(bytes.len() as u64),
            out_mime.trim_start_matches("image/").to_ascii_uppercase(),
            file_size(data.len() as u64),
        ),
        data,
        mime: out_mime,
        original: (w, h),
        shown: (tw, th),
    })
}

/// The largest size within both caps with the same aspect ratio (never upscaled).
fn fit(w: u32, h: u32) -> (u32, u32) {
    let (wf, hf) = (f64::from(w.max(1)), f64::from(h.max(1)));
    let by_edge = f64::from(IMAGE_MAX_EDGE) / wf.max(hf);
    let by_area = (f64::from(IMAGE_MAX_PIXELS) / (wf * hf)).sqrt();
    let scale = by_edge.min(by_area).min(1.0);
    if scale >= 1.0 {
        return (w, h);
    }
    ((wf * scale).floor().max(1.0) as u32, (hf * scale).floor().max(1.0) as u32)
}

/// PNG (lossless, best for screenshots), unless the source was a JPEG or the PNG
/// is over [`IMAGE_MAX_BYTES`]: then JPEG, at falling quality until it fits.
fn encode(img: &DynamicImage, source: ImageFormat) -> Result<(Vec<u8>, &'static str), String> {
    if source != ImageFormat::Jpeg {
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), ImageFormat::Png).map_err(|e| format!("PNG encoding failed ({e})"))?;
        if png.len() <= IMAGE_MAX_BYTES {
            return Ok((png, "image/png"));
        }
    }
    let rgb = img.to_rgb8();
    let (w, h) = img.dimensions();
    for quality in [85, 70, 50, 30] {
        let mut jpeg = Vec::new();
        JpegEncoder::new_with_quality(&mut jpeg, quality)
            .encode(rgb.as_raw(), w, h, image::ExtendedColorType::Rgb8)
            .map_err(|e| format!("JPEG encoding failed ({e})"))?;
        if jpeg.len() <= IMAGE_MAX_BYTES {
            return Ok((jpeg, "image/jpeg"));
        }
    }
    Err(format!("it does not fit in {} even as a low-quality JPEG", file_size(IMAGE_MAX_BYTES as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_fit_both_caps_without_changing_shape() {
        assert_eq!(fit(800, 600), (800, 600));
        let (w, h) = fit(2880, 1800);
        assert!(w <= IMAGE_MAX_EDGE && w * h <= IMAGE_MAX_PIXELS, "{w}x{h}");
        assert!((f64::from(w) / f64::from(h) - 1.6).abs() < 0.01);
        assert_eq!(fit(10_000, 10), (IMAGE_MAX_EDGE, 1));
    }
}
