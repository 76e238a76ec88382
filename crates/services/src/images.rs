//! Product images: upload (checked, then stored in the file store and recorded), delete,
//! reorder. The first image is the product's cover, shown in listings.
//!
//! The file is written before its row: a crash in between leaves an unreferenced file
//! (harmless, and removed again if the row's transaction fails), never a row whose file is
//! missing.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use jangteo_core::FieldErrors;
use jangteo_core::events::DomainEvent;
use jangteo_core::ids::{ImageId, ProductId};
use jangteo_core::images::{self as rules, ImageFormat, ImageRejection};
use jangteo_store::images as store;
use jangteo_store::images::Image;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::NotFoundAs;
use crate::tokens::Principal;
use crate::{ServiceError, ServiceResult, Services};

/// How images are accepted and addressed.
#[derive(Debug, Clone)]
pub struct ImageSettings {
    pub max_bytes: usize,
    /// Prefix of image URLs: `/files` when jangteo serves them itself, or a CDN / bucket
    /// URL such as `https://cdn.example.com`.
    pub public_base_url: String,
}

impl Default for ImageSettings {
    fn default() -> Self {
        Self {
            max_bytes: rules::DEFAULT_MAX_IMAGE_BYTES,
            public_base_url: "/files".into(),
        }
    }
}

impl ImageSettings {
    pub fn url_of(&self, key: &str) -> String {
        format!("{}/{key}", self.public_base_url.trim_end_matches('/'))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageView {
    pub id: ImageId,
    /// Where the file is in the file store.
    pub key: String,
    pub url: String,
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    pub byte_size: i64,
    pub position: i32,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl ImageView {
    pub(crate) fn from_row(settings: &ImageSettings, row: Image) -> Self {
        Self {
            url: settings.url_of(&row.object_key),
            id: row.id,
            key: row.object_key,
            content_type: row.content_type,
            width: row.width,
            height: row.height,
            byte_size: row.byte_size,
            position: row.position,
            sha256: row.sha256,
            created_at: row.created_at,
        }
    }
}

/// The key of an image file: unguessable (a fresh UUIDv7) and never reused, so it can be
/// cached forever by browsers and CDNs.
pub fn image_key(product_id: ProductId, image_id: ImageId, format: ImageFormat) -> String {
    format!(
        "products/{}/{}.{}",
        product_id.uuid().simple(),
        image_id.uuid().simple(),
        format.extension()
    )
}

/// The format of a key built by [`image_key`], or None for any other key (which the file
/// route then refuses to serve).
pub fn format_of_key(key: &str) -> Option<ImageFormat> {
    let rest = key.strip_prefix("products/")?;
    let (product, file) = rest.split_once('/')?;
    let (image, ext) = file.split_once('.')?;
    (Uuid::try_parse(product).is_ok() && Uuid::try_parse(image).is_ok())
        .then(|| ImageFormat::from_extension(ext))
        .flatten()
}

/// The product whose image a key of [`image_key`]'s shape names.
pub fn product_of_key(key: &str) -> Option<ProductId> {
    format_of_key(key)?;
    let rest = key.strip_prefix("products/")?;
    Uuid::try_parse(rest.split_once('/')?.0)
        .ok()
        .map(ProductId::from)
}

/// Who may download a stored image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// An image of a product on sale: anyone, cacheable by anyone.
    Public,
    /// An image of a draft or hidden product, shown to its seller or an admin only.
    Private,
}

/// What one sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Images (file and row) of deleted products.
    pub of_deleted_products: u64,
    /// Files no image row points at, older than [`ORPHAN_AGE`].
    pub orphan_files: u64,
}

/// A file without a row is only swept once it is this old: an upload writes its file before
/// its row, and must not lose the file in between.
pub const ORPHAN_AGE: chrono::Duration = chrono::Duration::hours(1);

fn rejected(r: ImageRejection) -> ServiceError {
    FieldErrors::single("image", r.code(), r.to_string()).into()
}

fn too_many() -> ServiceError {
    ServiceError::conflict(
        "image_limit_reached",
        format!(
            "a product has at most {} images; delete one first",
            rules::MAX_IMAGES_PER_PRODUCT
        ),
    )
}

fn file_store_down(e: anyhow::Error) -> ServiceError {
    tracing::error!(error = format!("{e:#}"), "file store failed");
    ServiceError::Unavailable("the file store")
}

pub struct ProductImages<'a> {
    s: &'a Services,
}

impl<'a> ProductImages<'a> {
    pub(crate) fn new(s: &'a Services) -> Self {
        Self { s }
    }

    pub async fn list(&self, product_id: ProductId) -> ServiceResult<Vec<ImageView>> {
        let rows = store::list_images(&self.s.db, product_id).await?;
        Ok(rows
            .into_iter()
            .map(|r| ImageView::from_row(&self.s.image_settings, r))
            .collect())
    }

    /// Adds an image at the end of the product's list.
    pub async fn add(
        &self,
        who: Principal,
        product_id: ProductId,
        declared: ImageFormat,
        body: Bytes,
    ) -> ServiceResult<ImageView> {
        // Ownership before anything else: a stranger learns nothing from the checks below.
        self.s.catalog().owned(who, product_id).await?;
        let info =
            rules::inspect(declared, &body, self.s.image_settings.max_bytes).map_err(rejected)?;
        if store::list_images(&self.s.db, product_id).await?.len() >= rules::MAX_IMAGES_PER_PRODUCT
        {
            return Err(too_many());
        }
        let id = ImageId::new();
        let key = image_key(product_id, id, info.format);
        let sha256 = format!("{:x}", Sha256::digest(&body));
        self.s
            .files
            .put(&key, body)
            .await
            .map_err(file_store_down)?;
        let recorded = self.record(product_id, id, &key, info, sha256).await;
        match recorded {
            Ok(view) => Ok(view),
            Err(e) => {
                if let Err(cleanup) = self.s.files.delete(&key).await {
                    tracing::warn!(error = format!("{cleanup:#}"), key, "orphaned image file");
                }
                Err(e)
            }
        }
    }

    async fn record(
        &self,
        product_id: ProductId,
        id: ImageId,
        key: &str,
        info: rules::ImageInfo,
        sha256: String,
    ) -> ServiceResult<ImageView> {
        let now = self.s.clock.now();
        let mut tx = self.s.begin().await?;
        store::lock_product(tx.conn(), product_id, now)
            .await
            .not_found_as("product")?;
        let existing = store::list_images(tx.conn(), product_id).await?;
        if existing.len() >= rules::MAX_IMAGES_PER_PRODUCT {
            return Err(too_many());
        }
        let row = Image {
            id,
            product_id,
            position: existing.last().map_or(0, |i| i.position + 1),
            object_key: key.to_owned(),
            content_type: info.format.content_type().to_owned(),
            byte_size: i64::try_from(info.byte_size).unwrap_or(i64::MAX),
            width: i32::try_from(info.width).unwrap_or(i32::MAX),
            height: i32::try_from(info.height).unwrap_or(i32::MAX),
            sha256,
            created_at: now,
        };
        store::insert_image(tx.conn(), row.clone()).await?;
        tx.record(DomainEvent::ProductChanged { product_id });
        tx.commit().await?;
        Ok(ImageView::from_row(&self.s.image_settings, row))
    }

    pub async fn delete(
        &self,
        who: Principal,
        product_id: ProductId,
        image_id: ImageId,
    ) -> ServiceResult<()> {
        self.s.catalog().owned(who, product_id).await?;
        let mut tx = self.s.begin().await?;
        store::lock_product(tx.conn(), product_id, self.s.clock.now())
            .await
            .not_found_as("product")?;
        let row = store::delete_image(tx.conn(), product_id, image_id)
            .await
            .not_found_as("image")?;
        tx.record(DomainEvent::ProductChanged { product_id });
        tx.commit().await?;
        // The row is gone, so the file is unreachable through the API; failing to remove
        // it costs disk space, not correctness.
        if let Err(e) = self.s.files.delete(&row.object_key).await {
            tracing::warn!(
                error = format!("{e:#}"),
                key = row.object_key,
                "orphaned image file"
            );
        }
        Ok(())
    }

    /// Whether `viewer` may download the file under `key`: it must be an image still
    /// attached to a product the viewer may see (public, or the viewer's own, or any for an
    /// admin). Anything else is NotFound, so a URL leaks nothing about drafts.
    pub async fn audience(&self, viewer: Option<Principal>, key: &str) -> ServiceResult<Audience> {
        let product_id = product_of_key(key).ok_or(ServiceError::NotFound("file"))?;
        let detail = self
            .s
            .catalog()
            .product(viewer, product_id)
            .await
            .map_err(|e| match e {
                ServiceError::NotFound(_) => ServiceError::NotFound("file"),
                other => other,
            })?;
        if !detail.images.iter().any(|i| i.key == key) {
            return Err(ServiceError::NotFound("file"));
        }
        Ok(if detail.status.is_public() {
            Audience::Public
        } else {
            Audience::Private
        })
    }

    /// Removes what no image row should keep: the images of deleted products (file first,
    /// then row, so a crash leaves a row to retry with) and files that no row points at
    /// (a crash between an upload's file and its row). Run periodically by the server.
    pub async fn sweep(&self) -> ServiceResult<SweepReport> {
        let mut report = SweepReport::default();
        loop {
            let rows = store::images_of_deleted_products(&self.s.db, 500).await?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                self.s
                    .files
                    .delete(&row.object_key)
                    .await
                    .map_err(file_store_down)?;
                store::delete_image_row(&self.s.db, row.id).await?;
                report.of_deleted_products += 1;
            }
        }
        let cutoff = self.s.clock.now() - ORPHAN_AGE;
        let mut listing = self.s.files.list("products");
        let mut batch = Vec::new();
        loop {
            let next = listing.next().await.transpose().map_err(file_store_down)?;
            let done = next.is_none();
            if let Some((key, modified)) = next {
                if modified < cutoff && format_of_key(&key).is_some() {
                    batch.push(key);
                }
                if batch.len() < 500 {
                    continue;
                }
            }
            let known = store::existing_keys(&self.s.db, &batch).await?;
            for key in batch.drain(..).filter(|k| !known.contains(k)) {
                self.s.files.delete(&key).await.map_err(file_store_down)?;
                report.orphan_files += 1;
            }
            if done {
                break;
            }
        }
        Ok(report)
    }

    /// Puts the product's images in the given order (every image exactly once).
    pub async fn reorder(
        &self,
        who: Principal,
        product_id: ProductId,
        order: &[ImageId],
    ) -> ServiceResult<Vec<ImageView>> {
        self.s.catalog().owned(who, product_id).await?;
        let mut tx = self.s.begin().await?;
        store::lock_product(tx.conn(), product_id, self.s.clock.now())
            .await
            .not_found_as("product")?;
        let current = store::list_images(tx.conn(), product_id).await?;
        let mut wanted = order.to_vec();
        wanted.sort_unstable();
        let mut have: Vec<ImageId> = current.iter().map(|i| i.id).collect();
        have.sort_unstable();
        if wanted != have {
            return Err(ServiceError::conflict(
                "image_set_mismatch",
                "image_ids must list each of the product's current images exactly once",
            ));
        }
        for (position, id) in order.iter().enumerate() {
            store::set_position(tx.conn(), *id, i32::try_from(position).unwrap_or(i32::MAX))
                .await?;
        }
        tx.record(DomainEvent::ProductChanged { product_id });
        tx.commit().await?;
        self.list(product_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_foreign_keys_are_refused() {
        let (p, i) = (ProductId::new(), ImageId::new());
        let key = image_key(p, i, ImageFormat::Webp);
        assert_eq!(format_of_key(&key), Some(ImageFormat::Webp));
        for bad in [
            "products/x/y.png",
            "other/a/b.png",
            &format!("products/{}/{}.svg", p.uuid().simple(), i.uuid().simple()),
            &format!("products/{}/{}", p.uuid().simple(), i.uuid().simple()),
            &format!(
                "products/{}/{}/{}.png",
                p.uuid().simple(),
                i.uuid().simple(),
                i.uuid().simple()
            ),
        ] {
            assert_eq!(format_of_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn urls_join_the_base_once() {
        let s = ImageSettings {
            public_base_url: "https://cdn.example.com/".into(),
            ..ImageSettings::default()
        };
        assert_eq!(
            s.url_of("products/a/b.png"),
            "https://cdn.example.com/products/a/b.png"
        );
        assert_eq!(ImageSettings::default().url_of("k.png"), "/files/k.png");
    }
}
