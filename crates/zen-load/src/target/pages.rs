//! A list the server pages (`resources/list` with `nextCursor`), read to its end on any client,
//! up to a bound: a server that always sends a cursor cannot keep the client reading.
use std::future::Future;

/// Pages of a list followed at most.
pub(crate) const MAX_PAGES: usize = 100;

/// Every item of a paged list: `page(cursor)` fetches one page (the first with `None`) and
/// returns its items and the next cursor.
pub(crate) async fn every_page<T, E, F, Fut>(mut page: F) -> Result<Vec<T>, E>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), E>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    for _ in 0..MAX_PAGES {
        let (more, next) = page(cursor).await?;
        items.extend(more);
        cursor = next;
        if cursor.is_none() {
            break;
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pages_are_followed_to_the_end_and_no_further_than_the_bound() {
        // Three pages, then no cursor.
        let three = every_page(|cursor: Option<String>| async move {
            let n: usize = cursor.map_or(0, |c| c.parse().unwrap());
            let next = (n < 2).then(|| (n + 1).to_string());
            Ok::<_, ()>((vec![n], next))
        })
        .await
        .unwrap();
        assert_eq!(three, [0, 1, 2]);
        // A server that always sends a cursor: read MAX_PAGES pages, then stop.
        let endless = every_page(|_| async { Ok::<_, ()>((vec![1], Some("again".into()))) })
            .await
            .unwrap();
        assert_eq!(endless.len(), MAX_PAGES);
    }
}
