//! COPY: rows of COPY … TO STDOUT sent as CopyData, and the data of
//! COPY … FROM STDIN handed to the session.

use super::*;

/// COPY … TO STDOUT: the statement's rows as COPY data lines.
pub(super) fn copy_out(
    p: &Prepared,
    spec: exec::copy::CopySpec,
    exec: Execution,
    zone: Zone,
) -> Response {
    let types: Vec<PgType> = p.columns.iter().map(|c| c.ty.clone()).collect();
    let mut first = Vec::new();
    if spec.header && spec.format == exec::copy::Format::Csv {
        let names: Vec<Option<String>> = p.columns.iter().map(|c| Some(c.name.clone())).collect();
        spec.encode_line(&names, &mut first);
    }
    let header = stream::iter((!first.is_empty()).then(|| Ok(CopyData::new(first.into()))));
    let line = move |row: &[Datum]| {
        let fields: Vec<Option<String>> = types
            .iter()
            .zip(row)
            .map(|(ty, v)| ty.render_text_in(v, zone))
            .collect();
        let mut out = Vec::new();
        spec.encode_line(&fields, &mut out);
        CopyData::new(out.into())
    };
    let rows: futures::stream::BoxStream<'static, PgWireResult<CopyData>> = match exec {
        Execution::Done(_) => stream::empty().boxed(),
        Execution::Rows(rx) => stream::unfold(
            (rx, Vec::<Vec<Datum>>::new().into_iter(), line),
            |(mut rx, mut pending, line)| async move {
                loop {
                    if let Some(r) = pending.next() {
                        let data = line(&r);
                        return Some((Ok(data), (rx, pending, line)));
                    }
                    match rx.next().await? {
                        Event::Rows(batch) => pending = batch.into_iter(),
                        Event::End(Ok(_)) => return None,
                        Event::End(Err(e)) => {
                            rx.close();
                            return Some((Err(to_pg(e)), (rx, Vec::new().into_iter(), line)));
                        }
                    }
                }
            },
        )
        .boxed(),
    };
    Response::CopyOut(CopyResponse::new(0, p.columns.len(), header.chain(rows)))
}

#[async_trait]
impl CopyHandler for Backend {
    async fn on_copy_data<C>(&self, client: &mut C, data: CopyData) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = self.session(client).await?;
        session.copy_data(&data.data).await.map_err(to_pg)
    }

    async fn on_copy_done<C>(&self, client: &mut C, _done: CopyDone) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = self.session(client).await?;
        let n = session.copy_done().await.map_err(to_pg)?;
        client
            .send(PgWireBackendMessage::CommandComplete(
                Tag::new("COPY").with_rows(n).into(),
            ))
            .await?;
        Ok(())
    }

    async fn on_copy_fail<C>(&self, client: &mut C, fail: CopyFail) -> PgWireError
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let Ok(session) = self.session(client).await {
            let _ = session.copy_fail().await;
        }
        PgWireError::UserError(Box::new(ErrorInfo::new(
            "ERROR".into(),
            "57014".into(),
            format!("COPY from stdin failed: {}", fail.message),
        )))
    }
}
