ALTER TABLE ratings DROP COLUMN comment_review;
