ALTER TABLE ratings DROP COLUMN comment_hidden_by;
ALTER TABLE ratings DROP COLUMN comment_hidden_at;
