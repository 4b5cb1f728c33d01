//! Web copies of screenshots: one as wide as the content column, one twice
//! that for high-density screens (never wider than the original), and the
//! original for the full-size link. Names carry a hash of the content, so a
//! changed screenshot gets a new address and no browser shows a stale one.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::{DynamicImage, ImageEncoder};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cache::{Cache, CachedFile, Hit};
use crate::config::ImageLimits;
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

/// A screenshot ready to publish: what its page shows, and the files behind
/// it in the build cache.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub web: WebImage,
    /// Each published file (relative to the site's root) and the cached file
    /// it is a link to.
    pub files: Vec<(String, CachedFile)>,
    /// The original picture, in the cache: the handout embeds it.
    pub original: PathBuf,
    /// The SHA-256 of the original.
    pub sha256: String,
    /// Made by this build, not found in the cache.
    pub made: bool,
}

/// What the cache keeps besides the files: the picture as the check read it,
/// and the size of each copy. The files are the original, then the copies.
#[derive(Serialize, Deserialize)]
struct Stored {
    format: String,
    width: u32,
    height: u32,
    bytes: u64,
    copies: Vec<StoredCopy>,
}

#[derive(Serialize, Deserialize)]
struct StoredCopy {
    width: u32,
    height: u32,
    ext: String,
}

/// Changes whenever the copies would come out different.
const RECIPE: &str =
    "web copies 2: column 720, 2x, fast_image_resize Lanczos3, PNG default adaptive, JPEG 85";

/// The cache key of a picture's copies: its content, the limits it was
/// checked against, and how copies are made.
pub fn cache_key(sha256: &str, limits: &ImageLimits) -> String {
    let max_pixels = limits.max_pixels.to_le_bytes();
    let max_bytes = limits.max_bytes.to_le_bytes();
    format!(
        "picture-{}",
        crate::cache::sha256_hex(&[
            RECIPE.as_bytes(),
            sha256.as_bytes(),
            &max_pixels,
            &max_bytes
        ])
    )
}

/// Short, stable content hash used in file names.
pub fn content_hash(bytes: &[u8]) -> String {
    crate::cache::hex(&Sha256::digest(bytes)[..5])
}

/// The published names of a picture: `images/<stem>-<hash>`. The stem is
/// the file's name as ASCII words (`my shot.png`, `my%20shot.png` and
/// `écran-1.png` become `my-shot`, `my-20shot` and `ecran-1`), so that the
/// address in the page is the file's name as it is, with nothing to encode;
/// a name in another script keeps only its ASCII words, or is `screenshot`.
fn base_name(rel: &Path, sha256: &str) -> String {
    let stem = rel
        .file_stem()
        .map(|s| slugify(&s.to_string_lossy()))
        .map(|s| {
            s.split('-')
                .filter(|w| !w.is_empty() && w.is_ascii())
                .collect::<Vec<_>>()
                .join("-")
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "screenshot".to_string());
    format!("{FOLDER}/{stem}-{}", &sha256[..10])
}

fn ext_of(format: &str) -> &str {
    match format {
        "jpeg" => "jpg",
        other => other,
    }
}

/// A picture the cache already holds, as the check read it and ready to
/// publish; `None` when the cached data does not make sense.
pub fn from_cache(rel: &Path, sha256: &str, hit: &Hit) -> Option<(ImageInfo, Prepared)> {
    let stored: Stored = hit.data()?;
    let format = match stored.format.as_str() {
        "png" => "png",
        "jpeg" => "jpeg",
        "gif" => "gif",
        "webp" => "webp",
        _ => return None,
    };
    if hit.files.len() != stored.copies.len() + 1 || sha256.len() < 10 {
        return None;
    }
    let info = ImageInfo {
        format,
        width: stored.width,
        height: stored.height,
        bytes: stored.bytes,
    };
    let base = base_name(rel, sha256);
    let full = Copy {
        src: format!("{base}.{}", ext_of(format)),
        width: info.width,
        height: info.height,
    };
    let mut files = vec![(full.src.clone(), hit.files[0].clone())];
    let mut copies = Vec::new();
    for (c, path) in stored.copies.iter().zip(&hit.files[1..]) {
        if !matches!(c.ext.as_str(), "png" | "jpg") {
            return None;
        }
        let copy = Copy {
            src: format!("{base}-{}.{}", c.width, c.ext),
            width: c.width,
            height: c.height,
        };
        files.push((copy.src.clone(), path.clone()));
        copies.push(copy);
    }
    let web = web_image(&info, full, &copies)?;
    Some((
        info,
        Prepared {
            web,
            files,
            original: hit.files[0].path.clone(),
            sha256: sha256.to_string(),
            made: false,
        },
    ))
}

/// Which copy is shown and which is the 2x one, by width.
fn web_image(info: &ImageInfo, full: Copy, copies: &[Copy]) -> Option<WebImage> {
    let pick = |width: u32| -> Option<Copy> {
        if width == info.width {
            Some(full.clone())
        } else {
            copies.iter().find(|c| c.width == width).cloned()
        }
    };
    let (shown_width, large_width) = widths(info);
    let shown = pick(shown_width)?;
    let large = if large_width > shown_width {
        Some(pick(large_width)?)
    } else {
        None
    };
    Some(WebImage {
        src: shown.src,
        width: shown.width,
        height: shown.height,
        large,
        full,
    })
}

/// The width shown in the column, and the 2x width (never upscaled).
fn widths(info: &ImageInfo) -> (u32, u32) {
    (
        info.width.min(COLUMN_WIDTH),
        info.width.min(COLUMN_WIDTH * 2),
    )
}

/// Make the web copies of one screenshot from its decoded pixels and store
/// them, with the original, in the cache.
pub fn make(
    rel: &Path,
    sha256: &str,
    bytes: &[u8],
    info: &ImageInfo,
    decoded: &DynamicImage,
    cache: &Cache,
    key: &str,
) -> Result<Prepared, String> {
    let (shown_width, large_width) = widths(info);
    let mut made: Vec<(StoredCopy, Vec<u8>)> = Vec::new();
    let mut source: Option<Pixels> = None;
    for width in [shown_width, large_width] {
        if width == info.width || made.iter().any(|(c, _)| c.width == width) {
            continue;
        }
        let height = scaled_height(info, width);
        let source = source.get_or_insert_with(|| Pixels::of(decoded, info.format));
        let resized = source.resize(width, height)?;
        let (ext, encoded) = encode(&resized, info.format)?;
        made.push((
            StoredCopy {
                width,
                height,
                ext: ext.to_string(),
            },
            encoded,
        ));
    }
    let full_suffix = format!("full.{}", ext_of(info.format));
    let suffixes: Vec<String> = made
        .iter()
        .map(|(c, _)| format!("{}.{}", c.width, c.ext))
        .collect();
    let mut files: Vec<(&str, &[u8])> = vec![(full_suffix.as_str(), bytes)];
    for (suffix, (_, b)) in suffixes.iter().zip(&made) {
        files.push((suffix.as_str(), b.as_slice()));
    }
    let stored = Stored {
        format: info.format.to_string(),
        width: info.width,
        height: info.height,
        bytes: info.bytes,
        copies: made
            .iter()
            .map(|(c, _)| StoredCopy {
                width: c.width,
                height: c.height,
                ext: c.ext.clone(),
            })
            .collect(),
    };
    let data = serde_json::to_value(&stored).map_err(|e| e.to_string())?;
    let hit = cache.put(key, data, &files).map_err(|e| e.0)?;
    from_cache(rel, sha256, &hit)
        .map(|(_, prepared)| Prepared {
            made: true,
            ..prepared
        })
        .ok_or_else(|| format!("{}: the web copies came out wrong", rel.display()))
}

fn scaled_height(info: &ImageInfo, width: u32) -> u32 {
    let h = (u64::from(info.height) * u64::from(width) + u64::from(info.width) / 2)
        / u64::from(info.width);
    u32::try_from(h).unwrap_or(u32::MAX).max(1)
}

/// A picture's pixels, 8 bits per channel: RGB when it is opaque (pictures
/// without transparency are written without an alpha channel), else RGBA.
struct Pixels {
    width: u32,
    height: u32,
    bytes: Vec<u8>,
    alpha: bool,
}

impl Pixels {
    fn of(img: &DynamicImage, format: &str) -> Pixels {
        let opaque = format == "jpeg"
            || !img.color().has_alpha()
            || img.to_rgba8().pixels().all(|p| p.0[3] == 255);
        let bytes = if opaque {
            img.to_rgb8().into_raw()
        } else {
            img.to_rgba8().into_raw()
        };
        Pixels {
            width: img.width(),
            height: img.height(),
            bytes,
            alpha: !opaque,
        }
    }

    fn pixel_type(&self) -> PixelType {
        if self.alpha {
            PixelType::U8x4
        } else {
            PixelType::U8x3
        }
    }

    /// Lanczos3, with the colours weighted by their alpha when there is one.
    fn resize(&self, width: u32, height: u32) -> Result<Pixels, String> {
        let src = ImageRef::new(self.width, self.height, &self.bytes, self.pixel_type())
            .map_err(|e| e.to_string())?;
        let mut dst = Image::new(width, height, self.pixel_type());
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(
            fast_image_resize::FilterType::Lanczos3,
        ));
        Resizer::new()
            .resize(&src, &mut dst, &options)
            .map_err(|e| e.to_string())?;
        Ok(Pixels {
            width,
            height,
            bytes: dst.into_vec(),
            alpha: self.alpha,
        })
    }
}

/// Screenshots stay PNG (sharp text); photographs stay JPEG.
fn encode(img: &Pixels, format: &str) -> Result<(&'static str, Vec<u8>), String> {
    use image::ExtendedColorType::{Rgb8, Rgba8};
    let color = if img.alpha { Rgba8 } else { Rgb8 };
    let mut out = Cursor::new(Vec::new());
    let ext = if format == "jpeg" {
        JpegEncoder::new_with_quality(&mut out, 85)
            .write_image(&img.bytes, img.width, img.height, color)
            .map(|()| "jpg")
    } else {
        PngEncoder::new_with_quality(&mut out, CompressionType::Default, PngFilter::Adaptive)
            .write_image(&img.bytes, img.width, img.height, color)
            .map(|()| "png")
    }
    .map_err(|e| e.to_string())?;
    Ok((ext, out.into_inner()))
}
