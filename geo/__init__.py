"""Getting geography in: road networks, facilities, demand, taxonomy and settings.

This is the lowest layer. It never imports streamlit or folium.
"""
