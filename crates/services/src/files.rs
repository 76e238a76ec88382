//! The file-store port: where uploaded files (product images) live. One interface, the
//! `object_store` crate's, over two adapters: a directory on local disk for the embedded
//! mode and any S3-compatible service (AWS S3, MinIO, Ceph, R2…) when several processes
//! serve one shop and must see the same files.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, ObjectStore, ObjectStoreExt, PutPayload};

/// Settings of the S3-compatible adapter (the `files.s3` configuration section).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct S3Settings {
    pub bucket: String,
    pub region: String,
    /// Non-AWS services (MinIO, R2, Ceph…): their URL, e.g. `http://127.0.0.1:9000`.
    pub endpoint: Option<String>,
    /// Without keys, the AWS default chain applies (environment, web identity, instance role).
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<jangteo_core::secret::Secret>,
    /// Plain-HTTP endpoints (local test servers) must be allowed explicitly.
    pub allow_http: bool,
    /// `bucket.host/key` instead of `host/bucket/key`.
    pub virtual_hosted_style: bool,
}

impl Default for S3Settings {
    fn default() -> Self {
        Self {
            bucket: String::new(),
            region: "us-east-1".into(),
            endpoint: None,
            access_key_id: None,
            secret_access_key: None,
            allow_http: false,
            virtual_hosted_style: false,
        }
    }
}

/// A stored file being read back.
pub struct StoredFile {
    pub size: u64,
    pub e_tag: Option<String>,
    pub body: BoxStream<'static, std::io::Result<Bytes>>,
}

#[derive(Clone)]
pub struct FileStore {
    inner: Arc<dyn ObjectStore>,
    description: String,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

impl FileStore {
    /// Files under `dir` (created if missing).
    pub fn local(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the file directory {}", dir.display()))?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .with_context(|| format!("opening the file directory {}", dir.display()))?
            // Delete also removes directories left empty, so the tree does not fill up
            // with one empty folder per deleted product.
            .with_automatic_cleanup(true);
        Ok(Self {
            inner: Arc::new(store),
            description: format!("local directory {}", dir.display()),
        })
    }

    /// Files in an S3-compatible bucket.
    pub fn s3(s: &S3Settings) -> anyhow::Result<Self> {
        anyhow::ensure!(
            !s.bucket.is_empty(),
            "files.s3.bucket must be set for the s3 backend"
        );
        crate::install_tls_provider();
        let mut builder = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&s.bucket)
            .with_region(&s.region)
            .with_allow_http(s.allow_http)
            .with_virtual_hosted_style_request(s.virtual_hosted_style);
        if let Some(endpoint) = &s.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let (Some(id), Some(secret)) = (&s.access_key_id, &s.secret_access_key) {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret.expose());
        }
        let store = builder
            .build()
            .with_context(|| format!("configuring S3 bucket {:?}", s.bucket))?;
        Ok(Self {
            inner: Arc::new(store),
            description: format!(
                "S3 bucket {} at {}",
                s.bucket,
                s.endpoint.as_deref().unwrap_or("AWS")
            ),
        })
    }

    /// Files in memory only (tests, throwaway tools).
    pub fn in_memory() -> Self {
        Self {
            inner: Arc::new(object_store::memory::InMemory::new()),
            description: "in-memory store".into(),
        }
    }

    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Fails unless the store answers: called at start-up so that a wrong bucket, endpoint
    /// or credential stops the server with a clear message instead of failing uploads.
    pub async fn check(&self) -> anyhow::Result<()> {
        self.inner
            .list_with_delimiter(Some(&ObjectPath::from("products")))
            .await
            .with_context(|| format!("the file store ({}) does not answer", self.description))?;
        Ok(())
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> anyhow::Result<()> {
        let path = parse_key(key)?;
        self.inner
            .put(&path, PutPayload::from_bytes(bytes))
            .await
            .with_context(|| format!("storing {key} in the {}", self.description))?;
        Ok(())
    }

    /// Opens a file for reading; None if there is no such file.
    pub async fn get(&self, key: &str) -> anyhow::Result<Option<StoredFile>> {
        let path = parse_key(key)?;
        match self.inner.get_opts(&path, GetOptions::default()).await {
            Ok(result) => {
                let size = result.meta.size;
                let e_tag = result.meta.e_tag.clone();
                let body = result.into_stream().map_err(std::io::Error::other).boxed();
                Ok(Some(StoredFile { size, e_tag, body }))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(anyhow::Error::new(e)
                .context(format!("reading {key} from the {}", self.description))),
        }
    }

    /// Removes a file; a file already gone is not an error.
    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        let path = parse_key(key)?;
        match self.inner.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(anyhow::Error::new(e)
                .context(format!("deleting {key} from the {}", self.description))),
        }
    }

    /// Keys and last-modified times of the files under `prefix` (e.g. `products/`).
    pub fn list(
        &self,
        prefix: &str,
    ) -> BoxStream<'_, anyhow::Result<(String, chrono::DateTime<chrono::Utc>)>> {
        let prefix = ObjectPath::from(prefix);
        self.inner
            .list(Some(&prefix))
            .map(|meta| {
                meta.map(|m| (m.location.to_string(), m.last_modified))
                    .map_err(anyhow::Error::new)
            })
            .boxed()
    }

    /// Reads a whole file into memory (small files; tests and tools).
    pub async fn read_all(&self, key: &str) -> anyhow::Result<Option<Bytes>> {
        match self.get(key).await? {
            Some(file) => {
                let chunks: Vec<Bytes> = file.body.try_collect().await?;
                Ok(Some(chunks.concat().into()))
            }
            None => Ok(None),
        }
    }
}

/// Keys are built by jangteo, but a key also arrives from URLs: reject anything that is not
/// a plain relative path (`..`, empty segments) before it reaches an adapter.
fn parse_key(key: &str) -> anyhow::Result<ObjectPath> {
    let path = ObjectPath::parse(key).with_context(|| format!("invalid file key {key:?}"))?;
    anyhow::ensure!(
        !key.is_empty() && path.as_ref() == key,
        "invalid file key {key:?}"
    );
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_store_round_trip_and_cleanup() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::local(dir.path()).unwrap();
        store.check().await.unwrap();
        let key = "products/p1/i1.png";
        store.put(key, Bytes::from_static(b"abc")).await.unwrap();
        assert!(dir.path().join(key).exists());
        assert_eq!(
            store.read_all(key).await.unwrap().as_deref(),
            Some(&b"abc"[..])
        );
        let file = store.get(key).await.unwrap().expect("stored file");
        assert_eq!(file.size, 3);
        assert!(file.e_tag.is_some(), "local files carry an e-tag");
        store.delete(key).await.unwrap();
        store.delete(key).await.unwrap();
        assert!(store.get(key).await.unwrap().is_none());
        assert!(!dir.path().join("products/p1").exists());
    }

    #[test]
    fn keys_must_be_plain_relative_paths() {
        for bad in ["", "../etc/passwd", "a//b", "/abs", "a/../b", "a/./b"] {
            assert!(parse_key(bad).is_err(), "{bad:?} accepted");
        }
        assert!(parse_key("products/x/y.png").is_ok());
    }
}
