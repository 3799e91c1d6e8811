-- PostgreSQL's counterpart of ../007_sealed_checkins.sql: a check-in's values as one JSON
-- object (sealed with a data key).
ALTER TABLE checkins ADD COLUMN data TEXT;
UPDATE checkins SET data = json_build_object('stress', stress, 'sober_days', sober_days,
    'rewards', rewards, 'loved_one_day', loved_one_day)::text;
ALTER TABLE checkins DROP COLUMN stress;
ALTER TABLE checkins DROP COLUMN sober_days;
ALTER TABLE checkins DROP COLUMN rewards;
ALTER TABLE checkins DROP COLUMN loved_one_day
