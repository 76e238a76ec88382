//! Product image rules: which formats a shop accepts, and whether an uploaded body really is
//! the image its `Content-Type` claims. The bytes are inspected, never trusted: a declared
//! `image/png` that is an HTML page or a ZIP is refused before anything is stored, because
//! the stored file is later served to browsers from the shop's own origin.

use std::fmt;

/// At most this many images per product; the first is the cover shown in listings.
pub const MAX_IMAGES_PER_PRODUCT: usize = 20;
/// Width and height bound: an image's header can claim 60,000 × 60,000 pixels in a few
/// bytes, and a client that decodes it would need gigabytes.
pub const MAX_DIMENSION: u32 = 10_000;
/// Default upload size limit (configurable with `files.max_image_bytes`).
pub const DEFAULT_MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Jpeg,
    Png,
    Webp,
    Gif,
}

impl ImageFormat {
    pub const ALL: [ImageFormat; 4] = [Self::Jpeg, Self::Png, Self::Webp, Self::Gif];

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Gif => "image/gif",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Gif => "gif",
        }
    }

    /// The format a `Content-Type` header names, ignoring parameters and case.
    pub fn from_content_type(header: &str) -> Option<Self> {
        let mime = header.split(';').next()?.trim().to_ascii_lowercase();
        match mime.as_str() {
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Some(Self::Jpeg),
            "image/png" => Some(Self::Png),
            "image/webp" => Some(Self::Webp),
            "image/gif" => Some(Self::Gif),
            _ => None,
        }
    }

    pub fn from_extension(ext: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.extension() == ext)
    }

    /// The accepted types, for error messages and documentation.
    pub fn accepted() -> String {
        Self::ALL.map(Self::content_type).join(", ")
    }

    fn sniff(bytes: &[u8]) -> Option<Self> {
        match imagesize::image_type(bytes).ok()? {
            imagesize::ImageType::Jpeg => Some(Self::Jpeg),
            imagesize::ImageType::Png => Some(Self::Png),
            imagesize::ImageType::Webp => Some(Self::Webp),
            imagesize::ImageType::Gif => Some(Self::Gif),
            _ => None,
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.content_type())
    }
}

/// What an accepted upload turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    pub byte_size: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageRejection {
    #[error("the image is empty")]
    Empty,
    #[error("the image is {size} bytes; the limit is {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("the body is not a JPEG, PNG, WebP or GIF image")]
    NotAnImage,
    #[error("the body is a {actual} image but was sent as {declared}")]
    Mismatch {
        declared: ImageFormat,
        actual: ImageFormat,
    },
    #[error("the image header is damaged: its dimensions cannot be read")]
    Unreadable,
    #[error("the image is {width}×{height} pixels; each side may be at most {MAX_DIMENSION}")]
    TooManyPixels { width: u32, height: u32 },
}

impl ImageRejection {
    /// Stable machine-readable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "image_empty",
            Self::TooLarge { .. } => "payload_too_large",
            Self::NotAnImage => "not_an_image",
            Self::Mismatch { .. } => "image_type_mismatch",
            Self::Unreadable => "image_unreadable",
            Self::TooManyPixels { .. } => "image_too_large_dimensions",
        }
    }
}

/// Checks an uploaded body against the declared format and the limits.
pub fn inspect(
    declared: ImageFormat,
    bytes: &[u8],
    max_bytes: usize,
) -> Result<ImageInfo, ImageRejection> {
    if bytes.is_empty() {
        return Err(ImageRejection::Empty);
    }
    if bytes.len() > max_bytes {
        return Err(ImageRejection::TooLarge {
            size: bytes.len(),
            max: max_bytes,
        });
    }
    let actual = ImageFormat::sniff(bytes).ok_or(ImageRejection::NotAnImage)?;
    if actual != declared {
        return Err(ImageRejection::Mismatch { declared, actual });
    }
    let size = imagesize::blob_size(bytes).map_err(|_| ImageRejection::Unreadable)?;
    let (width, height) = (
        u32::try_from(size.width).unwrap_or(u32::MAX),
        u32::try_from(size.height).unwrap_or(u32::MAX),
    );
    if width == 0 || height == 0 {
        return Err(ImageRejection::Unreadable);
    }
    if width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(ImageRejection::TooManyPixels { width, height });
    }
    Ok(ImageInfo {
        format: actual,
        width,
        height,
        byte_size: bytes.len(),
    })
}

/// The smallest valid images of each format, for tests here and in other crates.
pub mod samples {
    /// A 1×1 transparent PNG.
    pub const PNG_1X1: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00,
        0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49,
        0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];

    /// A 1×1 GIF.
    pub const GIF_1X1: &[u8] = &[
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xFF, 0xFF,
        0xFF, 0x00, 0x00, 0x00, 0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ];

    /// A PNG of `width`×`height` pixels as far as its header goes (the pixel data is not
    /// valid); enough for dimension checks.
    pub fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut png = PNG_1X1.to_vec();
        png[16..20].copy_from_slice(&width.to_be_bytes());
        png[20..24].copy_from_slice(&height.to_be_bytes());
        png
    }
}

#[cfg(test)]
mod tests {
    use super::samples::*;
    use super::*;

    #[test]
    fn accepts_what_the_bytes_confirm() {
        let info = inspect(ImageFormat::Png, PNG_1X1, 1024).unwrap();
        assert_eq!((info.width, info.height), (1, 1));
        assert_eq!(info.byte_size, PNG_1X1.len());
        assert_eq!(
            inspect(ImageFormat::Gif, GIF_1X1, 1024).unwrap().format,
            ImageFormat::Gif
        );
    }

    #[test]
    fn refuses_a_body_that_is_not_what_it_claims() {
        assert_eq!(
            inspect(ImageFormat::Png, b"<html><script>alert(1)</script>", 1024),
            Err(ImageRejection::NotAnImage)
        );
        assert_eq!(
            inspect(ImageFormat::Jpeg, PNG_1X1, 1024),
            Err(ImageRejection::Mismatch {
                declared: ImageFormat::Jpeg,
                actual: ImageFormat::Png
            })
        );
        assert_eq!(
            inspect(ImageFormat::Png, b"", 1024),
            Err(ImageRejection::Empty)
        );
    }

    #[test]
    fn refuses_oversize_bodies_and_dimensions() {
        assert_eq!(
            inspect(ImageFormat::Png, PNG_1X1, 10),
            Err(ImageRejection::TooLarge {
                size: PNG_1X1.len(),
                max: 10
            })
        );
        assert_eq!(
            inspect(ImageFormat::Png, &png_header(60_000, 2), 1024),
            Err(ImageRejection::TooManyPixels {
                width: 60_000,
                height: 2
            })
        );
        assert!(inspect(ImageFormat::Png, &png_header(10_000, 10_000), 1024).is_ok());
        assert_eq!(
            inspect(ImageFormat::Png, &PNG_1X1[..12], 1024),
            Err(ImageRejection::Unreadable)
        );
    }

    #[test]
    fn content_type_header_parsing() {
        assert_eq!(
            ImageFormat::from_content_type("Image/JPEG; charset=binary"),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(ImageFormat::from_content_type("image/svg+xml"), None);
        assert_eq!(ImageFormat::from_content_type("text/html"), None);
        assert_eq!(ImageFormat::from_extension("webp"), Some(ImageFormat::Webp));
    }
}
