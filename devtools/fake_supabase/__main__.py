"""`python -m fake_supabase [OPTIONS]`: the same command as `demo-relay fake-supabase`."""

from fake_supabase.cli import command

if __name__ == "__main__":
    command(prog_name="fake-supabase")
