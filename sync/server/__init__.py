"""The reference central service: one register for all workstations, the sync protocol's other
end. Installed with the `clerk-app[central]` extra (FastAPI, uvicorn, psycopg); only this
package imports them, so a workstation never loads them.
"""
