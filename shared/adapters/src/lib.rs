//! Stamp's storage adapters: the ports of `stamp_domain::ports` on DynamoDB and S3 (AWS),
//! and on a redb file and a local folder (single machine).

pub mod attribute_value;
pub mod aws;
pub mod deployment;
pub mod dynamodb;
pub mod embedded;
pub mod extract_files;
pub mod feed_client;
pub mod local_archive;
pub mod notify;
mod rules;
pub mod s3;

pub use aws::{aws_clients, SetupError};
pub use dynamodb::{create_table, DynamoItemStore};
pub use embedded::{CommitMode, EmbeddedError, EmbeddedItemStore};
pub use extract_files::{FolderExtractFiles, S3ExtractFiles};
pub use feed_client::HttpFeedClient;
pub use local_archive::{ArchiveMeta, FolderArchive};
pub use notify::{HttpWebhookSender, OutboxMailer, SesMailer};
pub use s3::{create_bucket, S3Archive};
