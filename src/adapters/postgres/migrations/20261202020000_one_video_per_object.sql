-- demo-relay: one catalog row per stored object. A video's object is removed with it, so two rows naming
-- one object would let deleting either break the other (a repeated "direct upload done" could do that).

create unique index demo_videos_storage_path_key on demo_videos (storage_path);
