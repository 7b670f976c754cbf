"""`python -m fake_tavus [OPTIONS]`: the same command as `demo-relay fake-tavus`."""

from fake_tavus.cli import command

if __name__ == "__main__":
    command(prog_name="fake-tavus")
