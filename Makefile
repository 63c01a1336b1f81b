# Convenience aliases; the README's two commands are the python3 bootstrap.py ones (no make needed).
.PHONY: train test bench install
install: ; python3 bootstrap.py install
train: ; python3 bootstrap.py train
test: ; python3 bootstrap.py test
bench: ; python3 bootstrap.py bench
