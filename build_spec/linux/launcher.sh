#!/bin/sh
# clerk-app on PATH: the installed bundle in /opt/clerk-app (see build_spec/make_deb.py).
exec /opt/clerk-app/clerk-app "$@"
