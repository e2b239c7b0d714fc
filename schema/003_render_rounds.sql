-- 003_render_rounds: which copy of a continuation message owns a round of a
-- large job in txmail-render (workers/render/render_round.c). A worker
-- killed after publishing round r's continuation but before its input was
-- acked leaves two copies of the job's next round in the broker; the first
-- copy to claim a round owns it, a redelivery of that copy may take it up
-- again, any other copy of the same round is dropped.
ALTER TABLE job
  ADD COLUMN render_round INT NOT NULL DEFAULT 0 COMMENT 'last claimed continuation round',
  ADD COLUMN render_owner CHAR(36) CHARACTER SET ascii NULL COMMENT 'id of the message that claimed it';
