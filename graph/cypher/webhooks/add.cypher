// Register a webhook: the address, the province whose events it receives, its signing secret and the
// number of the last event it has (its cursor).
// params: $webhook_id, $url, $province, $secret, $after, $created_by
CREATE (w:Webhook {webhook_id: $webhook_id, url: $url, province: $province, secret: $secret, after: $after,
                   created_by: $created_by, created_at: datetime(), failures: 0, next_try_at: datetime()})
RETURN w {.webhook_id, .url, .province, .after, .failures, .last_error, created_at: toString(w.created_at),
          delivered_at: toString(w.delivered_at)} AS webhook
