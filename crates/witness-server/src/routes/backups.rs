//! `GET /api/backups`, `POST /api/backups`, `GET /api/backups/{id}/download` (admins only;
//! creating and downloading are audited).

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::io::AsyncReadExt;
use witness_api::BackupInfo;

use crate::auth::Admin;
use crate::details;
use crate::error::AppError;
use crate::state::AppState;

/// Bytes read from the file per chunk of a download.
const CHUNK: usize = 64 * 1024;

pub async fn list(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Json<Vec<BackupInfo>>, AppError> {
    let backups = state.backups();
    let list = state
        .auditor()
        .audited(
            &caller.context,
            "backup.listed",
            crate::details! {},
            async { Ok(backups.list().await?) },
        )
        .await?;
    Ok(Json(list))
}

pub async fn create(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<(StatusCode, Json<BackupInfo>), AppError> {
    let operation = state
        .auditor()
        .begin(&caller.context, "backup.created", details! {})
        .await?;
    let outcome = state
        .backups()
        .create(state.store())
        .await
        .map_err(AppError::from);
    let info = operation
        .finish_with(outcome, |info| {
            details! {
                "backup_id" => info.id,
                "file_name" => info.file_name,
                "size_bytes" => info.size_bytes,
            }
        })
        .await?;
    Ok((StatusCode::CREATED, Json(info)))
}

fn not_found(id: &str) -> AppError {
    // The id is only echoed when it is a well-formed one; anything else is not repeated.
    if crate::backup::valid_id(id) {
        AppError::NotFound(format!("There is no backup with id `{id}`."))
    } else {
        AppError::NotFound("There is no backup with that id.".to_string())
    }
}

pub async fn download(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let operation = state
        .auditor()
        .begin(
            &caller.context,
            "backup.downloaded",
            details! {"backup_id" => id},
        )
        .await?;
    // Only ids this server makes reach the file system (no path traversal); anything else
    // is simply not a backup.
    let Some((path, info)) = state.backups().find(&id).await else {
        let error = not_found(&id);
        operation.fail(&error.to_string()).await;
        return Err(error);
    };
    let opened = tokio::fs::File::open(&path).await.map_err(|error| {
        AppError::Internal(anyhow::anyhow!("opening {}: {error}", path.display()))
    });
    let mut file = match opened {
        Ok(file) => file,
        Err(error) => {
            operation.fail(&error.to_string()).await;
            return Err(error);
        }
    };
    let size = file
        .metadata()
        .await
        .map(|m| m.len())
        .unwrap_or(info.size_bytes);
    // The file is streamed after this handler returns: Complete records that it started.
    operation
        .complete(details! {"file_name" => info.file_name, "size_bytes" => size})
        .await;
    let stream = async_stream::try_stream! {
        let mut buffer = vec![0u8; CHUNK];
        loop {
            let read = file.read(&mut buffer).await?;
            if read == 0 {
                break;
            }
            yield Bytes::copy_from_slice(&buffer[..read]);
        }
    };
    let stream: std::pin::Pin<Box<dyn futures_util::Stream<Item = std::io::Result<Bytes>> + Send>> =
        Box::pin(stream);
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(value) = HeaderValue::from_str(&size.to_string()) {
        headers.insert(header::CONTENT_LENGTH, value);
    }
    if let Ok(value) =
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", info.file_name))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
