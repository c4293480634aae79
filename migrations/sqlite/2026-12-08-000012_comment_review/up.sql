-- Issue 39: comments are reviewed between the close and publication. A comment is 未审核
-- ('pending') until the 营商办 approves it ('approved', 已通过) or hides it ('hidden', 已隐藏, with
-- its reason in comment_hidden_reason); units and inspectors see approved comments only.
-- Comments of published campaigns were shown already: approved. Others: pending.
ALTER TABLE ratings ADD COLUMN comment_review TEXT NOT NULL DEFAULT 'pending'
    CHECK (comment_review IN ('pending', 'approved', 'hidden'));
UPDATE ratings SET comment_review = 'hidden' WHERE comment_hidden_reason IS NOT NULL;
UPDATE ratings SET comment_review = 'approved'
    WHERE comment_hidden_reason IS NULL
      AND campaign_id IN (SELECT campaign_id FROM publications);
