from nalu_rl.cli import entry

entry()
