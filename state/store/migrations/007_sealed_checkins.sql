-- A check-in's values (stress, sober days, rewards, the loved one's day) move into one JSON
-- object, `data`, so that with a data key they are sealed like progress (a Fernet token in
-- place of the JSON; see state/store/sealing.py). The rows already stored become plain JSON
-- here; the store seals them the next time it opens with a key. The old columns go, and
-- with secure_delete on their bytes are overwritten. Events keep their columns: with a key
-- their `detail` (safety answers, the discreet flag, crisis pathways) is sealed in place.
ALTER TABLE checkins ADD COLUMN data TEXT;
UPDATE checkins SET data = json_object('stress', stress, 'sober_days', sober_days,
    'rewards', rewards, 'loved_one_day', loved_one_day);
ALTER TABLE checkins DROP COLUMN stress;
ALTER TABLE checkins DROP COLUMN sober_days;
ALTER TABLE checkins DROP COLUMN rewards;
ALTER TABLE checkins DROP COLUMN loved_one_day
