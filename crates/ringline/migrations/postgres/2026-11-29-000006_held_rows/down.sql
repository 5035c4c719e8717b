DROP TABLE held_rows;
