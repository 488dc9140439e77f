//! Node RPC over TCP. (Interface stand-in; replaced by the real module.)
#![allow(dead_code, unused_variables)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};

pub const MAX_FRAME: usize = 64 << 20;

#[async_trait::async_trait]
pub trait Handler: Send + Sync + 'static {
    type Req: serde::de::DeserializeOwned + Send + 'static;
    type Resp: serde::Serialize + Send + 'static;
    async fn handle(&self, req: Self::Req, out: Sender<Self::Resp>) -> Result<()>;
}

pub struct Sender<T> {
    tx: tokio::sync::mpsc::Sender<T>,
}
impl<T> Sender<T> {
    pub async fn send(&self, item: T) -> Result<()> {
        self.tx
            .send(item)
            .await
            .map_err(|_| Error::Internal("gone".into()))
    }
}

pub async fn serve<H: Handler>(
    listener: tokio::net::TcpListener,
    secret: Arc<[u8]>,
    handler: Arc<H>,
    shutdown: impl std::future::Future<Output = ()> + Send,
) {
}

pub fn rejected_connections() -> u64 {
    0
}

#[derive(Clone)]
pub struct Client {
    addr: SocketAddr,
}
impl Client {
    pub fn new(addr: SocketAddr, secret: Arc<[u8]>) -> Client {
        Client { addr }
    }
    pub async fn call<Req: serde::Serialize, Resp: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        req: &Req,
        timeout: Duration,
    ) -> Result<futures::stream::BoxStream<'static, Result<Resp>>> {
        Err(Error::Internal("stub".into()))
    }
    pub async fn call_all<Req: serde::Serialize, Resp: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        req: &Req,
        timeout: Duration,
    ) -> Result<Vec<Resp>> {
        Err(Error::Internal("stub".into()))
    }
}
