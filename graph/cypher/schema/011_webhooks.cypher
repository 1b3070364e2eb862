// Connected systems' webhooks: the change feed pushed to an address, each with its own cursor.
CREATE CONSTRAINT webhook_id IF NOT EXISTS FOR (w:Webhook) REQUIRE w.webhook_id IS UNIQUE;
