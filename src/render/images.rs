//! Web copies of screenshots: one as wide as the content column, one twice
//! that for high-density screens (never wider than the original), and the
//! original for the full-size link. Names carry a hash of the content, so a
//! changed screenshot gets a new address and no browser shows a stale one.

use std::io::Cursor;
use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::imageops::FilterType;
use image::{DynamicImage, ImageEncoder};
use sha2::{Digest, Sha256};

use crate::images::ImageInfo;
use crate::model::slugify;

/// The width of the content column in CSS pixels, which a screenshot fills.
pub const COLUMN_WIDTH: u32 = 720;

/// The folder of the published site that holds every picture.
pub const FOLDER: &str = "images";

#[derive(Debug, Clone)]
pub struct Copy {
    /// Relative to the site's root, such as `images/login-1a2b3c4d5e-720.png`.
    pub src: String,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone)]
pub struct WebImage {
    /// The copy shown in the page.
    pub src: String,
    pub width: u32,
    pub height: u32,
    /// The copy for high-density screens, when the original is wider than
    /// the column.
    pub large: Option<Copy>,
    /// The original picture.
    pub full: Copy,
}

/// A file the build writes, relative to the output's root.
pub struct OutFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Short, stable content hash used in file names.
pub fn content_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..5].iter().map(|b| format!("{b:02x}")).collect()
}

/// Make the web copies of one screenshot. `info` is what the check read.
pub fn process(original: &Path, info: &ImageInfo) -> Result<(WebImage, Vec<OutFile>), String> {
    let bytes =
        std::fs::read(original).map_err(|e| format!("cannot read {}: {e}", original.display()))?;
    let hash = content_hash(&bytes);
    let stem = original
        .file_stem()
        .map(|s| slugify(&s.to_string_lossy()))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "screenshot".to_string());
    let ext = match info.format {
        "jpeg" => "jpg",
        other => other,
    };
    let base = format!("{FOLDER}/{stem}-{hash}");
    let full = Copy {
        src: format!("{base}.{ext}"),
        width: info.width,
        height: info.height,
    };
    let mut files = vec![OutFile {
        path: full.src.clone(),
        bytes: bytes.clone(),
    }];

    let decoded = image::load_from_memory(&bytes)
        .map_err(|e| format!("cannot decode {}: {e}", original.display()))?;
    let shown_width = info.width.min(COLUMN_WIDTH);
    let large_width = info.width.min(COLUMN_WIDTH * 2);
    let mut copy = |width: u32| -> Result<Copy, String> {
        if width == info.width {
            return Ok(full.clone());
        }
        let height = scaled_height(info, width);
        let resized = decoded.resize_exact(width, height, FilterType::Lanczos3);
        let (out_ext, encoded) = encode(&resized, info.format)?;
        let src = format!("{base}-{width}.{out_ext}");
        files.push(OutFile {
            path: src.clone(),
            bytes: encoded,
        });
        Ok(Copy { src, width, height })
    };
    let shown = copy(shown_width)?;
    let large = if large_width > shown_width {
        Some(copy(large_width)?)
    } else {
        None
    };
    Ok((
        WebImage {
            src: shown.src,
            width: shown.width,
            height: shown.height,
            large,
            full,
        },
        files,
    ))
}

fn scaled_height(info: &ImageInfo, width: u32) -> u32 {
    let h = (u64::from(info.height) * u64::from(width) + u64::from(info.width) / 2)
        / u64::from(info.width);
    u32::try_from(h).unwrap_or(u32::MAX).max(1)
}

/// Screenshots stay PNG (sharp text); photographs stay JPEG. Pictures
/// without transparency are written without an alpha channel.
fn encode(img: &DynamicImage, format: &str) -> Result<(&'static str, Vec<u8>), String> {
    use image::ExtendedColorType::{Rgb8, Rgba8};
    let opaque = format == "jpeg"
        || !img.color().has_alpha()
        || img.to_rgba8().pixels().all(|p| p.0[3] == 255);
    let (pixels, color) = if opaque {
        (img.to_rgb8().into_raw(), Rgb8)
    } else {
        (img.to_rgba8().into_raw(), Rgba8)
    };
    let (width, height) = (img.width(), img.height());
    let mut out = Cursor::new(Vec::new());
    let ext = if format == "jpeg" {
        JpegEncoder::new_with_quality(&mut out, 85)
            .write_image(&pixels, width, height, color)
            .map(|()| "jpg")
    } else {
        PngEncoder::new_with_quality(&mut out, CompressionType::Default, PngFilter::Adaptive)
            .write_image(&pixels, width, height, color)
            .map(|()| "png")
    }
    .map_err(|e| e.to_string())?;
    Ok((ext, out.into_inner()))
}
