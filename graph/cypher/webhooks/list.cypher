// Every webhook with its cursor and delivery state (never its secret).
// params: none
MATCH (w:Webhook)
RETURN w {.webhook_id, .url, .province, .after, .failures, .last_error, created_at: toString(w.created_at),
          delivered_at: toString(w.delivered_at)} AS webhook
ORDER BY w.created_at
