// The webhooks whose next delivery is due, with what delivering needs.
// params: none
MATCH (w:Webhook)
WHERE w.next_try_at <= datetime()
RETURN w.webhook_id AS webhook_id, w.url AS url, w.province AS province, w.secret AS secret, w.after AS after,
       w.failures AS failures
ORDER BY w.next_try_at
