"""The permission matrix: every route of the URLconf and of the websocket router, tried by
every person around a student's case, against one table of expected outcomes (table.py).

world.py builds the people and the objects the URLs point at; routes.py enumerates the
routes; test_permission_matrix.py runs each cell and fails on a route without a row.
"""
