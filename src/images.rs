//! Screenshots as files: what they are, how big, and whether they decode.
//!
//! A picture is judged by its content, never its extension: its format is
//! read from its first bytes, its size from its header (so a decompression
//! bomb is refused before any pixel is decoded), and then it is decoded in
//! full, under memory limits, to prove it is not truncated or corrupt.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use serde::Serialize;

use crate::config::ImageLimits;

/// Extensions of files that are pictures, for finding pictures nobody uses.
pub const EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "webp", "svg", "bmp", "tif", "tiff", "avif", "heic",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageInfo {
    /// `png`, `jpeg`, `gif` or `webp`.
    pub format: &'static str,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageProblem {
    Missing,
    Unreadable(String),
    /// A symbolic link that leads outside `procedures/`.
    Outside,
    /// Not one of the formats procdoc takes; says what it is instead.
    NotAnImage(String),
    TooManyPixels {
        width: u32,
        height: u32,
        limit: u64,
    },
    TooManyBytes {
        bytes: u64,
        limit: u64,
    },
    /// A picture of a known format that does not decode.
    Corrupt(String),
}

pub fn is_image_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// A picture's bytes, refusing a missing file, a folder, or one larger than
/// the limit (before reading it).
pub fn read_within(path: &Path, limits: &ImageLimits) -> Result<Vec<u8>, ImageProblem> {
    let meta = metadata(path)?;
    within(&meta, limits)?;
    std::fs::read(path).map_err(|e| ImageProblem::Unreadable(e.to_string()))
}

/// What the file system says of a picture.
pub fn metadata(path: &Path) -> Result<std::fs::Metadata, ImageProblem> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ImageProblem::Missing),
        Err(e) => Err(ImageProblem::Unreadable(e.to_string())),
    }
}

/// Refuse a folder, or a file larger than the limit.
pub fn within(meta: &std::fs::Metadata, limits: &ImageLimits) -> Result<(), ImageProblem> {
    if !meta.is_file() {
        return Err(ImageProblem::NotAnImage("a folder".to_string()));
    }
    if meta.len() > limits.max_bytes {
        return Err(ImageProblem::TooManyBytes {
            bytes: meta.len(),
            limit: limits.max_bytes,
        });
    }
    Ok(())
}

/// Decode a picture held in memory: its format from its first bytes, its
/// size from its header (refused before any pixel is decoded when it is over
/// the limit), then every pixel.
pub fn decode(
    bytes: &[u8],
    limits: &ImageLimits,
) -> Result<(ImageInfo, DynamicImage), ImageProblem> {
    let len = bytes.len() as u64;
    if len > limits.max_bytes {
        return Err(ImageProblem::TooManyBytes {
            bytes: len,
            limit: limits.max_bytes,
        });
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ImageProblem::Unreadable(e.to_string()))?;
    let format = match reader.format() {
        Some(ImageFormat::Png) => "png",
        Some(ImageFormat::Jpeg) => "jpeg",
        Some(ImageFormat::Gif) => "gif",
        Some(ImageFormat::WebP) => "webp",
        Some(other) => {
            let name = other.extensions_str().first().copied().unwrap_or("unknown");
            return Err(ImageProblem::NotAnImage(format!(
                "a {} picture",
                name.to_uppercase()
            )));
        }
        None => return Err(ImageProblem::NotAnImage(describe_unknown(bytes))),
    };
    let mut decoder_limits = Limits::default();
    // Room for the largest allowed picture at 16 bits per RGBA channel.
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8).max(64 * 1024 * 1024));
    reader.limits(decoder_limits);
    let decoder = reader
        .into_decoder()
        .map_err(|e| ImageProblem::Corrupt(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(ImageProblem::TooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    if width == 0 || height == 0 {
        return Err(ImageProblem::Corrupt("it has no pixels".to_string()));
    }
    let image =
        DynamicImage::from_decoder(decoder).map_err(|e| ImageProblem::Corrupt(e.to_string()))?;
    Ok((
        ImageInfo {
            format,
            width,
            height,
            bytes: len,
        },
        image,
    ))
}

/// What a file that is not a known picture holds, in words an editor knows.
fn describe_unknown(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(512)];
    // An SVG may open with a long comment or DOCTYPE before its element.
    let start = &bytes[..bytes.len().min(64 * 1024)];
    let text = String::from_utf8_lossy(start).to_ascii_lowercase();
    if text.contains("<svg") || text.trim_start().starts_with("<?xml") {
        "an SVG drawing (SVG can carry scripts, so it is not accepted)".to_string()
    } else if head.is_empty() {
        "an empty file".to_string()
    } else if std::str::from_utf8(head).is_ok_and(|_| true)
        || std::str::from_utf8(head).is_err_and(|e| e.error_len().is_none())
    {
        "text, not a picture".to_string()
    } else {
        "not a PNG, JPEG, GIF or WebP picture".to_string()
    }
}
